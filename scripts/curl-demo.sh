#!/usr/bin/env bash
# Signs in to the demo (`npm run demo`) through the JSON API with nothing but curl, sed and grep,
# then calls the demo app's JSON API (/api/cameras) with the token, and signs out.
#
#   scripts/curl-demo.sh                       # against http://127.0.0.1:8080
#   PORTCULLIS_URL=http://127.0.0.1:18080 DEMO_USER=bob DEMO_PASSWORD=bob-the-builder \
#     DEMO_EMAIL=bob@example.com scripts/curl-demo.sh
#
# The demo delivers codes to its console and to /_gateway/dev/outbox (demo mode only), which is where
# this script reads the code. Progress goes to stderr; the cameras JSON is printed on stdout.
set -euo pipefail

BASE=${PORTCULLIS_URL:-http://127.0.0.1:8080}
DEMO_USER=${DEMO_USER:-alice}
DEMO_PASSWORD=${DEMO_PASSWORD:-alice-in-wonderland}
DEMO_EMAIL=${DEMO_EMAIL:-alice@example.com}
API="$BASE/_gateway/api/v1"

say() { printf '%s\n' "$*" >&2; }
fail() { say "curl-demo: $*"; exit 1; }

# The string value of a top-level field in a one-line JSON answer (the API's values need no unescaping).
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

post() { curl -sS --max-time 10 -X POST "$API/$1" -H 'content-type: application/json' -d "$2"; }

say "1. password for $DEMO_USER"
login=$(post login "{\"username\":\"$DEMO_USER\",\"password\":\"$DEMO_PASSWORD\"}")
status=$(printf '%s' "$login" | field status)
case "$status" in
  authenticated)
    token=$(printf '%s' "$login" | field token)
    ;;
  second_factor_required)
    flow=$(printf '%s' "$login" | field flow)
    say "   second factor required: $(printf '%s' "$login" | field method)"
    say "2. the code from $BASE/_gateway/dev/outbox"
    code=""
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      # One message per line; the newest message to this address; its six-digit code.
      code=$(curl -sS --max-time 10 "$BASE/_gateway/dev/outbox" | sed 's/},{/}\n{/g' | grep -F "\"to\":\"$DEMO_EMAIL\"" | tail -n 1 | grep -o '\b[0-9]\{6\}\b' | head -n 1 || true)
      [ -n "$code" ] && break
      sleep 0.5
    done
    [ -n "$code" ] || fail "no code for $DEMO_EMAIL in the outbox"
    say "3. verify"
    verified=$(post verify "{\"flow\":\"$flow\",\"code\":\"$code\"}")
    token=$(printf '%s' "$verified" | field token)
    [ -n "$token" ] || fail "verify answered: $verified"
    ;;
  *)
    fail "login answered: $login"
    ;;
esac

say "4. who am I"
curl -sS --max-time 10 "$API/session" -H "authorization: Bearer $token" >&2
say ""

say "5. the demo app's API with the token (the gateway removes it before forwarding)"
cameras=$(curl -sS --fail --max-time 10 "$BASE/api/cameras" -H "authorization: Bearer $token" -H 'accept: application/json')
printf '%s\n' "$cameras"

say "6. sign out"
out=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST "$API/logout" -H "authorization: Bearer $token")
[ "$out" = 204 ] || fail "logout answered $out"
after=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$BASE/api/cameras" -H "authorization: Bearer $token" -H 'accept: application/json')
say "   the token after logout: HTTP $after"
[ "$after" = 401 ] || fail "the token still works after logout"
