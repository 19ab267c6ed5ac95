"""A webhook receiver for the tests, run as a real process on loopback: it verifies every request
with the Standard Webhooks reference library (`standardwebhooks`, not Sportello's code) and appends
what it received to a JSON-lines file. It can answer 500 to the first N verified requests (to see
the retry) or 410 Gone to all (to see the subscription switched off)."""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

parser = argparse.ArgumentParser()
parser.add_argument("--secret-file", required=True, help="read on every request: the test may rotate it")
parser.add_argument("--log", required=True)
parser.add_argument("--fail-first", type=int, default=0)
parser.add_argument("--gone", action="store_true")
args = parser.parse_args()
verified_count = 0


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        global verified_count
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k: v for k, v in self.headers.items()}
        record = {"path": self.path, "id": headers.get("webhook-id"), "signatures": headers.get("webhook-signature", "")}
        try:
            with open(args.secret_file, encoding="utf-8") as secret:
                record["payload"] = Webhook(secret.read().strip()).verify(body, headers)
            record["verified"] = True
            verified_count += 1
        except WebhookVerificationError as error:
            record["verified"] = False
            record["error"] = str(error)
        if not record["verified"]:
            status = 401
        elif args.gone:
            status = 410
        elif verified_count <= args.fail_first:
            status = 500
        else:
            status = 204
        record["status"] = status
        with open(args.log, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
