# Sourced by backup.sh and restore.sh: keep a database password off the command line of pg_dump,
# pg_restore and psql (every user of the machine or container sees command lines in the process
# list).  pgurl_secure URL sets PGURL to URL without its password and exports the password as
# PGPASSWORD, which only the process's own user (and root) can read.
pgurl_secure() {
    PGURL="$1"
    case "$1" in
        *://*:*@*) ;;
        *) return 0 ;;  # no password in the URL (PGPASSWORD, ~/.pgpass or trust authentication)
    esac
    scheme="${1%%://*}"
    rest="${1#*://}"
    userinfo="${rest%%@*}"
    host_part="${rest#*@}"
    password="${userinfo#*:}"
    case "$password" in
        *%*)
            echo "数据库 URL 中的密码含有 URL 编码（%）：请把密码放在 PGPASSWORD 环境变量或 ~/.pgpass 中，URL 里不写密码。" >&2
            exit 2
            ;;
    esac
    PGPASSWORD="$password"
    export PGPASSWORD
    PGURL="$scheme://${userinfo%%:*}@$host_part"
}
