#!/bin/sh
# fanpin 数据库备份：PostgreSQL 自定义格式转储（pg_dump -Fc），可选附带上传文件（MEDIA_ROOT），并按天数清理旧备份。
#
#   DATABASE_URL=postgres://fanpin:密码@db:5432/fanpin deploy/backup.sh [备份目录]
#
# 环境变量：DATABASE_URL（必填）；BACKUP_DIR（默认 /backups，命令行参数优先）；
# BACKUP_KEEP_DAYS（默认 14：删除早于这么多天的备份）；MEDIA_ROOT（设置且存在时，同时打包上传文件）。
# 转储先写入 .partial 文件，经 pg_restore --list 读通后才改为正式文件名，半截的转储不会被当成备份。
# 成功时最后一行输出转储文件路径，退出码 0；任何一步失败则退出码非 0。
# URL 中的密码不会出现在 pg_dump 的命令行上（进程列表人人可见），而是经 PGPASSWORD 传给它（deploy/pgurl.sh）。
set -eu
umask 077  # the dump holds every 身份证号: readable by the backup user only

: "${DATABASE_URL:?请设置 DATABASE_URL（要备份的数据库）}"
. "$(dirname "$0")/pgurl.sh"
pgurl_secure "$DATABASE_URL"
dir="${1:-${BACKUP_DIR:-/backups}}"
keep="${BACKUP_KEEP_DAYS:-14}"
case "$keep" in
    ''|*[!0-9]*) echo "BACKUP_KEEP_DAYS 应为天数（整数），而不是：$keep" >&2; exit 2 ;;
esac
mkdir -p "$dir"
stamp="$(date +%Y%m%d-%H%M%S)"
dump="$dir/fanpin-$stamp.dump"

pg_dump --format=custom --no-owner --no-acl --file="$dump.partial" "$PGURL"
pg_restore --list "$dump.partial" > /dev/null
mv "$dump.partial" "$dump"

if [ -n "${MEDIA_ROOT:-}" ] && [ -d "$MEDIA_ROOT" ]; then
    # GNU tar exits 1 when a file changed while it was read (an upload during the backup): the
    # archive is still complete for every other file, so only exit codes above 1 are failures
    rc=0
    tar -czf "$dir/fanpin-media-$stamp.tar.gz.partial" -C "$MEDIA_ROOT" . || rc=$?
    if [ "$rc" -gt 1 ]; then echo "打包上传文件失败（tar 退出码 $rc）" >&2; exit "$rc"; fi
    mv "$dir/fanpin-media-$stamp.tar.gz.partial" "$dir/fanpin-media-$stamp.tar.gz"
    echo "上传文件：$dir/fanpin-media-$stamp.tar.gz"
fi

# retention: only this script's own files, older than BACKUP_KEEP_DAYS days
find "$dir" -maxdepth 1 -type f \( -name 'fanpin-*.dump' -o -name 'fanpin-media-*.tar.gz' -o -name 'fanpin-*.partial' \) \
    -mtime +"$keep" -exec rm -f {} +
echo "备份完成（保留 $keep 天）：$dump"
echo "$dump"
