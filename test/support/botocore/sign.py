"""botocore signs requests; prints the headers it set for each, as JSON.

stdin: [{method, url, headers?, body?, accessKeyId, secretAccessKey, sessionToken?, region, amzDate}]
stdout: [{header: value}]
"""
from common import freeze_time, read_input, sign, write

results = []
for case in read_input():
    freeze_time(case['amzDate'])
    results.append(dict(sign(case, dict(case.get('headers') or {})).headers.items()))
write(results)
