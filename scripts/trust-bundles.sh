#!/usr/bin/env bash
# Exports the recorded trust bundle fixtures/trust/both-cas.pem as the PKCS#7 bundles that
# Windows' certificate manager and many CA tools write, made by OpenSSL:
#   fixtures/trust/both-cas.p7b  PKCS#7 SignedData, DER (what Windows exports as .p7b)
#   fixtures/trust/both-cas.p7c  the same, PEM (-----BEGIN PKCS7-----)
# Run from the repository root after `cargo run -p siptriage-dev --bin record-fixtures` (needs openssl).
set -euo pipefail
dir=${1:-fixtures/trust}
openssl crl2pkcs7 -nocrl -certfile "$dir/both-cas.pem" -outform DER -out "$dir/both-cas.p7b"
openssl crl2pkcs7 -nocrl -certfile "$dir/both-cas.pem" -outform PEM -out "$dir/both-cas.p7c"
