#!/bin/sh
# Creates the secret files the deployment examples read. Run it once from anywhere:
#
#   deploy/init-secrets.sh                    # deploy/secrets/session_secret, for the Docker Compose stacks
#   deploy/init-secrets.sh DIR NAME...        # other files, for example for the Kubernetes overlay:
#   deploy/init-secrets.sh deploy/kubernetes/overlays/production/secrets session_secret redis_password
#
# Each NAME becomes DIR/NAME holding 48 random bytes, base64-encoded (64 characters, no newline). A file
# that exists already is kept, so running the script again changes nothing. DIR is made private (0700),
# which keeps other users of this machine out; the files themselves are 0644 because Docker Compose
# mounts a secret file with its owner and mode unchanged, and the gateway in the container runs as
# user 1000, which is usually not you. Passwords of outside services (SMTP, LDAP, Twilio) are not random:
# write those files yourself, without a trailing newline (printf '%s' 'the password' > DIR/smtp_password).
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
dir=${1:-"$here/secrets"}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- session_secret

random_secret() {
  if command -v openssl >/dev/null 2>&1; then
    openssl rand -base64 48 | tr -d '\n'
  else
    head -c 48 /dev/urandom | base64 | tr -d '\n'
  fi
}

mkdir -p "$dir"
chmod 700 "$dir"
if [ ! -e "$dir/.gitignore" ]; then
  printf '*\n!.gitignore\n' > "$dir/.gitignore"
fi
for name in "$@"; do
  case $name in
    '' | */* | .*) echo "init-secrets: '$name' is not a plain file name" >&2; exit 2 ;;
  esac
  file="$dir/$name"
  if [ -e "$file" ]; then
    echo "kept    $file"
    continue
  fi
  umask 022
  random_secret > "$file.tmp"
  chmod 644 "$file.tmp"
  mv "$file.tmp" "$file"
  echo "created $file"
done
