#!/usr/bin/env python3
"""Writes the hand-made seeds of the newer fuzz targets into fuzz/corpus/<target>/:
cmd_sequence (command sequences per data type, MULTI/EXEC, BGSAVE, RESTORE of real DUMP
payloads, HyperLogLog and GEO values), inline_parse, function_shebang, rdb_encodings and
config_file. DUMP payloads and HLL strings come from a real redis-server (started here on a
free port), so they are byte-exact Redis 7 encodings.

Usage: python3 fuzz/make_seeds.py [corpus dir, default fuzz/corpus] (needs redis-server on
PATH and redis-py, e.g. target/test-venv/bin/python). Stream and set DUMPs embed times and
hash order, so a rerun may rewrite those seeds with different bytes.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


port = free_port()
tmp = tempfile.mkdtemp(prefix="moon-seeds-")
server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--dir", tmp],
                          stdout=subprocess.DEVNULL)
r = redis.Redis(port=port)
for _ in range(100):
    try:
        r.ping()
        break
    except redis.ConnectionError:
        time.sleep(0.05)
try:
    r.flushall()
    r.rpush('l', 'a', 'b', '1', '2')
    r.hset('h', mapping={'f': 'v', 'n': '5'})
    r.sadd('s', 'x', 'y')
    r.sadd('si', 1, 2, 3)
    r.zadd('z', {'m': 1.5, 'n': 2})
    r.xadd('x', {'f': 'v'}, id='1-1'); r.xgroup_create('x', 'g', id='0'); r.xreadgroup('g', 'c', {'x': '>'})
    r.set('str', 'hello'); r.set('int', '12345')
    r.pfadd('hll', 'a', 'b')
    dumps = {k: r.dump(k)[:-10] for k in ['l','h','s','si','z','x','str','int','hll']}
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
    FE, FF, BN = b"\xfe", b"\xff", b"\xfd"
    def esc(a): return bytes(x for c in a for x in ((0xfc, c) if c >= 0xfc else (c,)))
    def cmd(*args, meta=0):
        return BN + bytes([meta]) + FF.join(esc(a if isinstance(a, bytes) else str(a).encode()) for a in args)
    def seq(name, *cmds):
        os.makedirs(f'{out}/cmd_sequence', exist_ok=True)
        open(f'{out}/cmd_sequence/{name}', 'wb').write(FE.join(cmds))
    seq('strings', cmd('SET','k','1'), cmd('INCR','k'), cmd('INCRBYFLOAT','k','1.5'), cmd('APPEND','k','x'), cmd('SETRANGE','k',3,'abc'), cmd('GETDEL','k'), cmd('SET','k','v','EX',1), cmd('GET','k',meta=4*5))
    seq('expire', cmd('SET','k','v'), cmd('EXPIRE','k',2), cmd('PERSIST','k',meta=4), cmd('PEXPIRE','k',100), cmd('TTL','k',meta=8), cmd('SET','a','b','PX',300), cmd('GETEX','a','PERSIST'))
    seq('lists', cmd('LPUSH','l','a','b','c'), cmd('RPOP','l'), cmd('LMOVE','l','m','LEFT','RIGHT'), cmd('LINSERT','l','BEFORE','a','z'), cmd('LTRIM','l',0,1), cmd('LPOS','l','a'), cmd('BLMPOP',0,1,'l','LEFT'))
    seq('hashes', cmd('HSET','h','f','1','g','2'), cmd('HINCRBY','h','f',3), cmd('HINCRBYFLOAT','h','g','0.5'), cmd('HDEL','h','f'), cmd('HSETNX','h','x','y'), cmd('HGETALL','h'))
    seq('sets', cmd('SADD','s','1','2','3','a'), cmd('SPOP','s'), cmd('SMOVE','s','t','2'), cmd('SINTERSTORE','u','s','t'), cmd('SREM','s','1'), cmd('SDIFFSTORE','d','s','t'))
    seq('zsets', cmd('ZADD','z','1','a','2','b'), cmd('ZINCRBY','z','2.5','a'), cmd('ZPOPMIN','z'), cmd('ZUNIONSTORE','u',1,'z'), cmd('ZREMRANGEBYSCORE','z','-inf','+inf'), cmd('ZADD','z','GT','CH','3','c'))
    seq('streams', cmd('XADD','x','*','f','v'), cmd('XADD','x','MAXLEN','1','*','g','w',meta=4), cmd('XGROUP','CREATE','x','g','0','MKSTREAM'), cmd('XREADGROUP','GROUP','g','c','COUNT',1,'STREAMS','x','>'), cmd('XACK','x','g','0-1'), cmd('XAUTOCLAIM','x','g','c2',0,'0-0'), cmd('XTRIM','x','MINID','0'), cmd('XSETID','x','999-0'))
    seq('keys', cmd('SET','a','1'), cmd('RENAME','a','b'), cmd('COPY','b','c','DB','1'), cmd('MOVE','c','2'), cmd('SWAPDB',0,2), cmd('SET','e','1',meta=2), cmd('FLUSHDB',meta=1), cmd('UNLINK','b'))
    seq('bits', cmd('SETBIT','b',100,1), cmd('BITFIELD','b','INCRBY','u8',0,300,'SET','i5',3,7), cmd('BITOP','NOT','c','b'), cmd('PFADD','h','a','b'), cmd('PFMERGE','h2','h'), cmd('GEOADD','g','13.36','38.11','p'))
    mset = ['MSET'] + [x for i in range(200) for x in (f'k{i}', f'v{i}')]
    seq("bgsave", cmd(*mset), cmd('HSET','h','f','1'), cmd('RPUSH','l','a','b'), cmd('BGSAVE'), cmd('SET','k1','new'), cmd('DEL','k2'), cmd('HSET','h','g','2'), cmd('LPOP','l'), cmd('EXPIRE','k3',1), cmd('SET','k5','x',meta=4*8), cmd('MULTI'), cmd('INCR','k7'), cmd('EXEC'), cmd('SET','k199','z'))
    r.pfadd('hs', *[f'e{i}' for i in range(50)])
    r.pfadd('hd', *[f'e{i}' for i in range(5000)])
    hs, hd = r.get('hs'), r.get('hd')
    seq("hll_sparse", cmd('SET','h',hs), cmd('PFCOUNT','h'), cmd('PFADD','h','new'), cmd('PFMERGE','d','h'), cmd('PFCOUNT','d','h'), cmd('APPEND','h','x'), cmd('PFCOUNT','h'))
    seq("hll_dense", cmd('SET','h',hd), cmd('PFCOUNT','h'), cmd('SETRANGE','h',100,'\xff\xff'), cmd('PFADD','h','new'), cmd('PFMERGE','h','h'), cmd('PFCOUNT','h'))
    seq("geo", cmd('GEOADD','g','13.361389','38.115556','a','15.087269','37.502669','b'), cmd('ZADD','g','1e300','c'), cmd('GEOPOS','g','a','c'), cmd('GEODIST','g','a','b','km'), cmd('GEOSEARCHSTORE','d','g','FROMMEMBER','a','BYRADIUS',500,'km','STOREDIST'), cmd('GEOHASH','g','a','c'))
    seq("multi", cmd("MULTI"), cmd("INCR","c"), cmd("LPUSH","l","x"), cmd("HSET","h","f","v"), cmd("SET","s","v","EX",5), cmd("EXEC"), cmd("GET","s",meta=4*30))
    seq('sort', cmd('RPUSH','l','3','1','2'), cmd('SET','w_1','9'), cmd('SORT','l','BY','w_*','STORE','d'), cmd('SORT_RO','l','ALPHA'))
    seq('functions', cmd('FUNCTION','LOAD', "#!lua name=lib\nredis.register_function('f', function() return 1 end)"), cmd('FUNCTION','DELETE','lib'))
    for k, v in dumps.items():
        seq(f'restore_{k}', cmd('RESTORE', 'r', 0, v), cmd('DUMP','r'), cmd('TYPE','r'), cmd('RESTORE','r',0,v,'REPLACE','ABSTTL'), cmd('DEL','r'))
    # inline_parse
    os.makedirs(f'{out}/inline_parse', exist_ok=True)
    for i, line in enumerate([b'SET k v', b'set "a b" \'c d\'', b'"\\x41\\n\\t" x', b'ECHO "unterminated', b"'it\\'s'", b'a\tb  c', b'"quoted"x']):
        open(f'{out}/inline_parse/seed{i}', 'wb').write(line)
    os.makedirs(f'{out}/function_shebang', exist_ok=True)
    for i, code in enumerate([b"#!lua name=mylib\nreturn 1", b"#!lua name=a_b-1 \n", b"#!LUA name=x", b"#!lua", b"#!lua name=lib other=1\n", b"#!foo name=z\n", b"#!lua name=\"q\"\n"]):
        open(f'{out}/function_shebang/seed{i}', 'wb').write(code)
    # rdb_encodings: selector + raw encodings taken from real DUMPs where possible
    os.makedirs(f'{out}/rdb_encodings', exist_ok=True)
    import struct
    lp = b'\x00'
    def lp_from_dump(d):
        # string-encoded listpack after the type byte: length-prefixed (6-bit / 14-bit len)
        b0 = d[1]
        if b0 >> 6 == 0: return d[2:2 + (b0 & 0x3f)]
        if b0 >> 6 == 1: n = ((b0 & 0x3f) << 8) | d[2]; return d[3:3 + n]
        return b''
    open(f'{out}/rdb_encodings/listpack_hash', 'wb').write(b'\x00' + lp_from_dump(dumps['h']))
    open(f'{out}/rdb_encodings/listpack_zset', 'wb').write(b'\x00' + lp_from_dump(dumps['z']))
    open(f'{out}/rdb_encodings/intset', 'wb').write(b'\x03' + lp_from_dump(dumps['si']))
    open(f'{out}/rdb_encodings/lzf', 'wb').write(b'\x04' + struct.pack('<H', 12) + b'\x00a\x00b\x20\x00' )
    open(f'{out}/rdb_encodings/ziplist', 'wb').write(b'\x01' + struct.pack('<IIH', 11, 10, 0) + b'\xff')
    open(f'{out}/rdb_encodings/zipmap', 'wb').write(b'\x02' + b'\x01\x01a\x01\x00b\xff')
    # config_file
    os.makedirs(f'{out}/config_file', exist_ok=True)
    open(f'{out}/config_file/basic', 'w').write('# comment\nport 7000\nsave "900 1" \nappendonly yes\nappendfsync always\nmaxmemory 1gb\nmaxmemory-policy allkeys-lru\nnotify-keyspace-events KEA\nhz 10\nlist-max-listpack-size -2\nrequirepass "a b"\n')
    open(f'{out}/config_file/quoting', 'w').write("dir '/tmp/x y'\nlogfile \"\"\nsave ''\nbind 127.0.0.1 ::1\ntimeout 0\nmaxclients 0\n")
    print('seeds written')
finally:
    server.terminate()
    server.wait()
    shutil.rmtree(tmp, ignore_errors=True)
