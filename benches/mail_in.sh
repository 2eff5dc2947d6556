#!/usr/bin/env bash
# The mail-in benchmark (issue 11; figures in docs/performance.md): 1,000 messages waiting in
# a real Dovecot mailbox are ingested by a release `helpdesk serve` on SQLite, each once; then
# one 25 MiB message through `helpdesk mailgate`, with the service's peak resident memory.
# Usage: benches/mail_in.sh [COUNT]   (needs a release build in $CARGO_TARGET_DIR or target/,
# Debian dovecot-imapd, python3, curl and jq)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${CARGO_TARGET_DIR:-$repo/target}/release/helpdesk"
count="${1:-1000}"
work="$(mktemp -d)"
imap_port=$((20000 + RANDOM % 20000)); http_port=$((imap_port + 1))
"$repo/../shared/tools/imap-server" -b -u desk -w pw "$imap_port" "$work/imap" >/dev/null
trap 'kill "$(cat "$work/imap.pid")" 2>/dev/null; kill "${serve:-0}" 2>/dev/null; rm -rf "$work"' EXIT
python3 - "$imap_port" "$count" <<'PY'
import imaplib, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
c = imaplib.IMAP4("127.0.0.1", port); c.login("desk", "pw")
for i in range(count):
    msg = (f"From: utente{i % 50}@example.org\r\nSubject: Segnalazione {i}\r\n"
           f"Message-ID: <bench-{i}@example.org>\r\n\r\nIl servizio {i} non risponde.\r\n")
    c.append("INBOX", None, imaplib.Time2Internaldate(time.time()), msg.encode())
c.logout()
PY
export DATABASE_URL="sqlite://$work/helpdesk.db" HELPDESK_BIND="127.0.0.1:$http_port" \
  HELPDESK_OUTBOX_DIR="$work/outbox" HELPDESK_SQLITE_SYNCHRONOUS=normal \
  HELPDESK_IMAP_POLL_INTERVAL_SECONDS=1 HELPDESK_RATE_LIMIT_PER_SECOND=0 HELPDESK_LOG=warn
start=$(date +%s.%N)
HELPDESK_IMAP_URL="imap://desk:pw@127.0.0.1:$imap_port/INBOX" "$bin" serve > "$work/serve.out" 2>"$work/serve.err" &
serve=$!
flagged() { python3 - "$imap_port" <<'PY'
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); c.login("desk", "pw"); c.select("INBOX")
print(len(c.uid("SEARCH", None, "KEYWORD", "HelpdeskIngested")[1][0].split())); c.logout()
PY
}
while [ "$(flagged)" -lt "$count" ]; do sleep 0.5; done
end=$(date +%s.%N)
token=$(grep -o 'hd_[A-Za-z0-9_-]*' "$work/serve.out" | head -1)
tickets=$(sqlite3 "$work/helpdesk.db" 'SELECT count(*) FROM tickets' 2>/dev/null || echo "?")
echo "ingested $count messages in $(echo "$end - $start" | bc) s (service start included); tickets: $tickets"
gate=$("$bin" user add --name bench --role mailgate)
python3 - "$work/big.eml" <<'PY'
import base64, os, sys
data = base64.encodebytes(os.urandom(25 * 1024 * 1024 * 3 // 4))
with open(sys.argv[1], "wb") as f:
    f.write(b"From: grande@example.org\r\nSubject: allegato grande\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
            b"Vedi allegato.\r\n--b\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + data + b"\r\n--b--\r\n")
PY
before=$(grep VmHWM "/proc/$serve/status")
"$bin" mailgate --url "http://127.0.0.1:$http_port" --token "$gate" < "$work/big.eml"
echo "25 MiB message: $(du -h "$work/big.eml" | cut -f1); peak resident before: ${before#VmHWM:} after: $(grep VmHWM "/proc/$serve/status" | sed 's/VmHWM://')"
