# A private postfix (Debian's) for the mail benchmarks: its own config,
# queue and data directories under $1, listening on 127.0.0.1:$2, and
# delivering every recipient of example.jp into one Maildir
# ($1/mail/Maildir) through the virtual(8) agent. No DNS lookups, no
# chroot, no syslog (the log is $1/maillog). Needs root (postfix start).
#
#   . bench/lib/postfix.sh; postfix_start DIR PORT; ...; postfix_stop DIR
postfix_start() {
  local dir=$1 port=$2
  if ! command -v postfix >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix >/dev/null
  fi
  mkdir -p "$dir/conf" "$dir/mail" "$dir/queue" "$dir/data"
  chown postfix:postfix "$dir/mail" "$dir/data"
  # postfix's own processes must reach them (mktemp -d makes 0700).
  chmod 755 "$(dirname "$dir")" "$dir"
  cat >"$dir/conf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.localdomain
mydomain = localdomain
myorigin = localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
default_process_limit = 300
virtual_mailbox_domains = example.jp
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:Maildir/
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)
virtual_mailbox_limit = 0
message_size_limit = 10240000
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
alias_maps =
alias_database =
local_recipient_maps =
biff = no
CF
  sed -e "s/^smtp \\{6\\}inet .*/127.0.0.1:$port inet n - n - - smtpd/" \
      -e 's/^\([a-z]*\) \{1,\}\(unix\|fifo\|unix-dgram\|pass\) \{1,\}\([-ny]\) \{1,\}\([-ny]\) \{1,\}y /\1 \2 \3 \4 n /' \
      /etc/postfix/master.cf >"$dir/conf/master.cf"
  script -qec "postfix -c $dir/conf start" /dev/null >"$dir/start.log" 2>&1 || { cat "$dir/start.log" "$dir/maillog" 2>/dev/null; return 1; }
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "postfix does not listen on $port"; cat "$dir/start.log" "$dir/maillog" 2>/dev/null; return 1
}

postfix_stop() {
  postfix -c "$1/conf" stop >/dev/null 2>&1 || true
}

# Messages delivered into the Maildir so far.
postfix_delivered() {
  find "$1/mail/Maildir/new" -type f 2>/dev/null | wc -l
}
