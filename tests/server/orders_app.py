"""The SOAP application of the end-to-end tests: a spyne (python3-spyne) orders service,
spyne's WSGI application under wsgiref, on loopback. A WSGI middleware writes one JSON line
per request it receives (method, path, SOAPAction, x-warden-* headers, body) to a file, so
the test sees exactly what reached the application.

    python3 orders_app.py PORT RECORD_FILE [soap12]
"""
import io
import json
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from spyne import Application, Integer, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11, Soap12
from spyne.server.wsgi import WsgiApplication

NAMESPACE = "urn:example:orders"


class OrdersService(ServiceBase):
    @rpc(Integer, _returns=Unicode)
    def CreateOrder(ctx, amount):
        return "order of %d created" % amount

    @rpc(Integer, _returns=Unicode)
    def DeleteOrder(ctx, order):
        return "order %d deleted" % order


def recording(app, path):
    """Record each request before spyne handles it; GETs (the WSDL) too."""

    def middleware(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        record = {
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("PATH_INFO", ""),
            "query": environ.get("QUERY_STRING", ""),
            "soapaction": environ.get("HTTP_SOAPACTION"),
            "forwarded": (environ.get("HTTP_X_FORWARDED_FOR"), environ.get("HTTP_X_FORWARDED_PROTO")),
            "warden": {k[5:].lower().replace("_", "-"): v for k, v in environ.items()
                       if k.startswith("HTTP_X_WARDEN_")},
            "body": body.decode("utf-8", "replace"),
        }
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")
        return app(environ, start_response)

    return middleware


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    soap = Soap12 if sys.argv[3:] == ["soap12"] else Soap11
    application = Application([OrdersService], tns=NAMESPACE,
                              in_protocol=soap(validator="lxml"), out_protocol=soap())
    server = make_server("127.0.0.1", port, recording(WsgiApplication(application), path),
                         handler_class=QuietHandler)
    server.serve_forever()


if __name__ == "__main__":
    main()
