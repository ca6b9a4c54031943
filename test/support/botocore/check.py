"""botocore re-signs requests that another signer signed, at the same x-amz-date, and says whether the
Authorization headers match.

stdin: [{method, url, headers (as the other signer sent them), body?, accessKeyId, secretAccessKey,
         sessionToken?, region}]
stdout: [{match, expected, actual, bodyHashOk}]
"""
import hashlib

from common import freeze_time, read_input, sign, write

# botocore sets these itself; everything else the other signer sent goes in as it was.
GENERATED = {'authorization', 'x-amz-date', 'x-amz-security-token'}


def check(case):
    sent = {name.lower(): value for name, value in case['headers'].items()}
    freeze_time(sent['x-amz-date'])
    headers = {name: value for name, value in sent.items() if name not in GENERATED}
    body_hash = hashlib.sha256((case.get('body') or '').encode('utf-8')).hexdigest()
    body_hash_ok = sent.get('x-amz-content-sha256', body_hash) == body_hash
    expected = sign(case, headers).headers['Authorization']
    return {
        'match': expected == sent['authorization'] and body_hash_ok,
        'expected': expected,
        'actual': sent['authorization'],
        'bodyHashOk': body_hash_ok,
    }


write([check(case) for case in read_input()])
