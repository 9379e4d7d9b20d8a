#!/usr/bin/python3
"""Writes an unsigned order request for the benchmark. usage: make_message.py OUT [SIZE]

SIZE (bytes, default 4096; "64K" and "1M" work) is about the size of the signed message: the
default is a typical zeep message with a few line items; larger sizes add line items (the
markup-dense shape of a real order, not one long text)."""
import sys

LINE = ("""
      <ord:line><ord:sku>SKU-{i:05d}</ord:sku><ord:quantity>{q}</ord:quantity>"""
        """<ord:price>{p}.50</ord:price></ord:line>""")
SIGNATURE_OVERHEAD = 3700  # what zeep's Security header adds to a message of this shape


def message(lines):
    items = "".join(LINE.format(i=i, q=i % 7 + 1, p=(i * 37) % 1000) for i in range(lines))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <soap:Header>
    <wsa:Action>urn:example:orders/Create</wsa:Action>
    <wsa:To>https://orders.example.com/soap</wsa:To>
    <wsa:MessageID>urn:uuid:6b1e4c52-7c1d-4f0e-9b55-2f6d8a1c0d11</wsa:MessageID>
  </soap:Header>
  <soap:Body>
    <ord:CreateOrder xmlns:ord="urn:example:orders">
      <ord:customer>ACME-1042</ord:customer>{items}
      <ord:amount>250</ord:amount>
      <ord:currency>EUR</ord:currency>
    </ord:CreateOrder>
  </soap:Body>
</soap:Envelope>
"""


def parse_size(text):
    scale = {"K": 1024, "M": 1024 * 1024}.get(text[-1:].upper(), 1)
    return int(text.rstrip("kKmM")) * scale


def main(out, size="4096"):
    target = parse_size(size) - SIGNATURE_OVERHEAD
    lines = 2
    per_line = len(message(3)) - len(message(2))
    if len(message(lines)) < target:
        lines = max(2, (target - len(message(0))) // per_line)
    with open(out, "w") as f:
        f.write(message(lines))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(*sys.argv[1:])
