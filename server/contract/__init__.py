"""The server's contract with kiosks and gates: the slip-token codec, the API's bodies and a typed HTTP client.

Nothing here imports the database, FastAPI or any other part of the server, so a kiosk or gate machine can use it
with only the standard library, cryptography, httpx and pydantic installed.
"""
