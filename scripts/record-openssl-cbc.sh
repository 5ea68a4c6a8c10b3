#!/usr/bin/env bash
# Records TLS 1.2 CBC captures made by OpenSSL on loopback, with their key logs:
#   fixtures/openssl-cbc-etm-port-mismatch.pcap  (+ .keys)  encrypt-then-MAC (OpenSSL's default)
#   fixtures/openssl-cbc-mte-port-mismatch.pcap  (+ .keys)  MAC-then-encrypt (-no_etm)
# rustls has no CBC suites, so these come from OpenSSL. The SIP exchange is REGISTER, 407 Bearer,
# REGISTER with the token, 403 port mismatch, as CUCM answers it.
# Timeline: REGISTER at 1 s, 407 at 2 s, REGISTER with the token at 3 s, 403 at 4 s.
# Needs: openssl, tcpdump (apt-get install -y tcpdump). Run as root from the repository root.
set -euo pipefail
out=${1:-fixtures}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=cucm1.lab.example" \
  -addext "subjectAltName=DNS:cucm1.lab.example" -keyout "$work/cucm.key" -out "$work/cucm.pem" 2>/dev/null

sip() { # $1 = message kind, $2 = cseq
  local body=""
  case $1 in
    register)
      printf 'REGISTER sip:cucm1.lab.example SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:51000;branch=z9hG4bK%08x\r\nFrom: <sip:1001@cucm1.lab.example>;tag=a1\r\nTo: <sip:1001@cucm1.lab.example>\r\nCall-ID: openssl-cbc-1@127.0.0.1\r\nCSeq: %s REGISTER\r\nUser-Agent: Cisco-CSF\r\nContact: <sip:x@127.0.0.1:51000;transport=tls>;+u.sip!devicename.ccm.cisco.com="CSFossl"\r\n%sExpires: 3600\r\nContent-Length: 0\r\n\r\n' "$2" "$2" "$3";;
    407)
      printf 'SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/TLS 127.0.0.1:51000;branch=z9hG4bK%08x\r\nFrom: <sip:1001@cucm1.lab.example>;tag=a1\r\nTo: <sip:1001@cucm1.lab.example>;tag=b2\r\nCall-ID: openssl-cbc-1@127.0.0.1\r\nCSeq: %s REGISTER\r\nProxy-Authenticate: Bearer realm="ccmsipline"\r\nContent-Length: 0\r\n\r\n' "$2" "$2";;
    403)
      printf 'SIP/2.0 403 Forbidden\r\nVia: SIP/2.0/TLS 127.0.0.1:51000;branch=z9hG4bK%08x\r\nFrom: <sip:1001@cucm1.lab.example>;tag=a1\r\nTo: <sip:1001@cucm1.lab.example>;tag=b2\r\nCall-ID: openssl-cbc-1@127.0.0.1\r\nCSeq: %s REGISTER\r\nRetry-After: 35\r\nWarning: 399 UCM2-PUB "SIP OAuth Registration port Mismatch"\r\nContent-Length: 0\r\n\r\n' "$2" "$2";;
  esac
}

record() { # $1 = name, $2.. = extra openssl options
  local name=$1; shift
  local pcap="$work/$name.pcap" keys="$work/$name.keys"
  tcpdump -i lo -U -s 0 -w "$pcap" 'tcp port 5090' 2>/dev/null &
  local dump=$!
  sleep 1
  { sleep 2.0; sip 407 101; sleep 2.0; sip 403 102; sleep 1.5; } |
    openssl s_server -accept 5090 -cert "$work/cucm.pem" -key "$work/cucm.key" -tls1_2 \
      -cipher 'ECDHE-RSA-AES128-SHA256:AES256-SHA' -quiet "$@" >/dev/null 2>&1 &
  local server=$!
  sleep 0.5
  { sleep 0.5; sip register 101 ""; sleep 2.0; sip register 102 'Proxy-Authorization: Bearer token="eyJhbGciOiJSUzI1NiIsImtpZCI6ImxhYiJ9.cGF5bG9hZA.c2ln"\r\n'; sleep 2.0; } |
    openssl s_client -connect 127.0.0.1:5090 -tls1_2 -cipher 'ECDHE-RSA-AES128-SHA256:AES256-SHA' \
      -keylogfile "$keys" -quiet "$@" >/dev/null 2>&1 || true
  sleep 0.5
  kill "$server" 2>/dev/null || true
  sleep 0.5
  kill "$dump"; wait "$dump" 2>/dev/null || true
  cp "$pcap" "$out/$name.pcap"
  grep -v '^#' "$keys" > "$out/$name.keys"
  echo "wrote $out/$name.pcap and .keys"
}

record openssl-cbc-etm-port-mismatch
record openssl-cbc-mte-port-mismatch -no_etm
