#!/bin/sh
# fanpin 数据库恢复：把 deploy/backup.sh 生成的转储恢复到一个空数据库，并检查结果。
#
#   deploy/restore.sh 转储文件 目标数据库URL
#   例：createdb -h db -U fanpin fanpin_restore
#       export PGPASSWORD=密码      # 密码不写进 URL：命令行在进程列表中人人可见
#       deploy/restore.sh /backups/fanpin-20261128-023000.dump postgres://fanpin@db:5432/fanpin_restore
#
# 目标库必须已存在且为空（没有任何表）：本脚本绝不覆盖已有数据。恢复在一个事务中进行
# （--single-transaction --exit-on-error）：要么全部恢复，要么什么都不写。之后更新统计信息（ANALYZE，
# 转储中不含统计信息），并输出各主要表的行数、最后一条审计记录和审计表只追加触发器是否存在。
# 上传文件：tar -xzf fanpin-media-时间.tar.gz -C "$MEDIA_ROOT"。
set -eu

if [ "$#" -ne 2 ]; then
    echo "用法：deploy/restore.sh 转储文件 目标数据库URL" >&2
    exit 2
fi
dump="$1"
. "$(dirname "$0")/pgurl.sh"
pgurl_secure "$2"
if [ "$PGURL" != "$2" ]; then
    # this script's own command line shows its arguments to every user in the process list
    echo "目标数据库 URL 里不要写密码（命令行在进程列表中人人可见）：请先 export PGPASSWORD=密码（或用 ~/.pgpass），URL 写成 postgres://用户@主机:端口/库名。" >&2
    exit 2
fi
target="$PGURL"
if [ ! -f "$dump" ]; then
    echo "转储文件不存在：$dump" >&2
    exit 2
fi
pg_restore --list "$dump" > /dev/null

tables="$(psql "$target" -X -At -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
if [ "$tables" != "0" ]; then
    echo "目标数据库不是空库（已有 $tables 张表），未做任何恢复。请恢复到新建的空库（createdb）。" >&2
    exit 3
fi

pg_restore --no-owner --no-acl --single-transaction --exit-on-error --dbname="$target" "$dump"
psql "$target" -X -q -v ON_ERROR_STOP=1 -c "ANALYZE"

psql "$target" -X -At -v ON_ERROR_STOP=1 -F ' ' <<'SQL'
SELECT 'regions', count(*) FROM monitoring_region;
SELECT 'households', count(*) FROM monitoring_household;
SELECT 'members', count(*) FROM monitoring_member;
SELECT 'leads', count(*) FROM monitoring_lead;
SELECT 'targets', count(*) FROM monitoring_monitoringtarget;
SELECT 'users', count(*) FROM fanpin_user;
SELECT 'audit_entries', count(*) FROM fanpin_auditentry;
SELECT 'migrations', count(*) FROM django_migrations;
SELECT 'last_audit', coalesce(max(id), 0) FROM fanpin_auditentry;
SELECT 'audit_trigger', count(*) FROM pg_trigger WHERE tgname = 'fanpin_audit_append_only' AND NOT tgisinternal;
SQL
echo "恢复完成：$dump → 目标库。请核对上面的行数，然后运行 python manage.py migrate --check。"
