#!/usr/bin/env python3
"""Writes the golden vectors of src/archive/crypt.rs with an implementation independent of it
(Python `cryptography`), from the format as documented there. Run from this directory."""
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER = bytes(range(32))
# First 16 bytes of blake3.derive_key("w10a key-id v1", MASTER) (Python has no BLAKE3 in its standard library).
KEY_ID = bytes.fromhex("0b05de90714b7361cd9586ddda9f9a7f")
SALT = bytes(range(0x40, 0x60))
PREFIX = bytes(range(0xA0, 0xA7))
SEGMENT = b"golden-seg"
ALG_AES_256_GCM = 1


def envelope(chunk_log2: int, plaintext: bytes) -> bytes:
    header = b"W10E" + bytes([1, ALG_AES_256_GCM, chunk_log2]) + KEY_ID + SALT + PREFIX
    header += bytes([len(SEGMENT)]) + SEGMENT
    info = b"w10a v1 payload" + bytes([ALG_AES_256_GCM])
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=info).derive(MASTER)
    size = 1 << chunk_log2
    chunks = [plaintext[i : i + size] for i in range(0, len(plaintext), size)] or [b""]
    out = header
    for i, chunk in enumerate(chunks):
        final = i == len(chunks) - 1
        nonce = PREFIX + i.to_bytes(4, "big") + bytes([1 if final else 0])
        out += AESGCM(key).encrypt(nonce, chunk, header)
    return out


def data(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


with open("small-chunks-150.bin", "wb") as f:
    f.write(envelope(6, data(150)))
with open("empty.bin", "wb") as f:
    f.write(envelope(20, b""))
