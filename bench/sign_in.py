#!/usr/bin/env python3
"""Signs in to keyport at 127.0.0.1:PORT as EMAIL (password on standard input) and prints the
session cookie as a Cookie header value, for wrk."""
import http.client
import re
import sys
import urllib.parse

port, email = int(sys.argv[1]), sys.argv[2]
password = sys.stdin.read().rstrip("\n")
jar = {}


def request(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = dict(headers or {})
    if jar:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
    conn.request(method, path, body, headers)
    response = conn.getresponse()
    data = response.read().decode()
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            key, val = value.split(";")[0].split("=", 1)
            jar[key] = val
    return response.status, data


_, page = request("GET", "/login")
token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
status, _ = request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
if status != 303:
    sys.exit(f"sign-in as {email} failed: {status}")
print("; ".join(f"{k}={v}" for k, v in jar.items() if "session" in k))
