#!/usr/bin/python3
"""Writes an unsigned order request whose signed form is about 4 KB, the size of a typical
zeep message with a few line items (the benchmark's input)."""
import sys

LINES = "".join(
    f"""
      <ord:line><ord:sku>SKU-{i:05d}</ord:sku><ord:quantity>{i % 7 + 1}</ord:quantity><ord:price>{(i * 37) % 1000}.50</ord:price></ord:line>"""
    for i in range(2))

MESSAGE = f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <soap:Header>
    <wsa:Action>urn:example:orders/Create</wsa:Action>
    <wsa:To>https://orders.example.com/soap</wsa:To>
    <wsa:MessageID>urn:uuid:6b1e4c52-7c1d-4f0e-9b55-2f6d8a1c0d11</wsa:MessageID>
  </soap:Header>
  <soap:Body>
    <ord:CreateOrder xmlns:ord="urn:example:orders">
      <ord:customer>ACME-1042</ord:customer>{LINES}
      <ord:amount>250</ord:amount>
      <ord:currency>EUR</ord:currency>
    </ord:CreateOrder>
  </soap:Body>
</soap:Envelope>
"""

with open(sys.argv[1], "w") as f:
    f.write(MESSAGE)
