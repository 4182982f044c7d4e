# Sourced by backup.sh and restore.sh: keep a database password off the command line of pg_dump,
# pg_restore and psql (every user of the machine or container sees command lines in the process
# list).  pgurl_secure URL sets PGURL to URL without its password and exports the password
# (percent-decoded, as libpq would) as PGPASSWORD, which only the process's own user (and root)
# can read.  A URL without a password leaves PGPASSWORD / ~/.pgpass as they are.

# pgurl_decode TEXT: TEXT with every %XX replaced by that byte.
pgurl_decode() {
    rest="$1"
    out=""
    while [ -n "$rest" ]; do
        case "$rest" in
            %[0-9A-Fa-f][0-9A-Fa-f]*)
                hex="${rest#%}"
                hex="${hex%"${hex#??}"}"
                # shellcheck disable=SC2059  # the format is the octal escape of one byte
                out="$out$(printf "\\$(printf '%03o' "0x$hex")")"
                rest="${rest#???}"
                ;;
            *)
                out="$out${rest%"${rest#?}"}"
                rest="${rest#?}"
                ;;
        esac
    done
    printf '%s' "$out"
}

pgurl_secure() {
    PGURL="$1"
    case "$1" in
        *://*) ;;
        *) return 0 ;;  # not a URL (a conninfo string or a database name): left alone
    esac
    case "$1" in
        *[?\&]password=*)
            echo "数据库 URL 的参数里有 password=：请把密码放在 PGPASSWORD 环境变量或 ~/.pgpass 中。" >&2
            exit 2
            ;;
    esac
    scheme="${1%%://*}"
    after="${1#*://}"
    # the authority ends at the first "/", "?" or "#"; the user part ends at its last "@"
    authority="${after%%[/?#]*}"
    tail="${after#"$authority"}"
    case "$authority" in
        *@*) ;;
        *) return 0 ;;  # no user part
    esac
    userinfo="${authority%@*}"
    host="${authority##*@}"
    case "$userinfo" in
        *:*) ;;
        *) return 0 ;;  # a user without a password
    esac
    password="$(pgurl_decode "${userinfo#*:}")"
    PGURL="$scheme://${userinfo%%:*}@$host$tail"
    if [ -n "$password" ]; then
        PGPASSWORD="$password"
        export PGPASSWORD
    fi
}
