"""botocore signs a request and sends it with urllib; prints {status, body}.

stdin: {method, url, headers?, body?, accessKeyId, secretAccessKey, sessionToken?, region}
"""
import urllib.error
import urllib.request

from common import read_input, sign, write

case = read_input()
request = sign(case, dict(case.get('headers') or {}))
outgoing = urllib.request.Request(
    case['url'],
    data=request.body or None,
    headers=dict(request.headers.items()),
    method=case['method'],
)
try:
    with urllib.request.urlopen(outgoing, timeout=10) as response:
        write({'status': response.status, 'body': response.read().decode('utf-8')})
except urllib.error.HTTPError as error:
    write({'status': error.code, 'body': error.read().decode('utf-8')})
