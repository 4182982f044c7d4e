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

pgurl_refuse() {
    echo "$1：请把密码放在 PGPASSWORD 环境变量或 ~/.pgpass 中，连接串里不写密码。" >&2
    exit 2
}

pgurl_secure() {
    PGURL="$1"
    case "$1" in
        *password=*) pgurl_refuse "连接串的参数里有 password=" ;;
    esac
    case "$1" in
        *://*) ;;
        *) return 0 ;;  # a database name or a conninfo string without a password
    esac
    scheme="${1%%://*}"
    after="${1#*://}"
    # the authority ends at the first "/", "?" or "#"; the user part ends at its last "@"
    authority="${after%%[/?#]*}"
    tail="${after#"$authority"}"
    case "$authority" in
        *@*) ;;
        *)
            case "${after%%/*}" in
                *@*) pgurl_refuse "URL 的密码里有未编码的 ? 或 #" ;;
            esac
            ;;
    esac
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
