#!/usr/bin/env python3
"""Fails when two top-level modules of src/ import each other, directly or
through others (`use crate::x` outside comments); prints the module graph.
The data flows one way, and so must the imports (docs/ARCHITECTURE.md)."""
import re,glob,os,itertools
# top-level module of each file, and the crate modules it uses (use crate::X / crate::X::)
def top(f):
    r=os.path.relpath(f,'src')
    return r.split('/')[0].replace('.rs','')
edges={}
sub={}
for f in glob.glob('src/**/*.rs',recursive=True):
    m=top(f)
    if m in ('main','lib','cli'): continue
    s='\n'.join(l for l in open(f).read().split('\n') if not l.strip().startswith('//'))
    for u in re.findall(r'crate::([a-z_]+)',s):
        if u!=m and u not in ('Error','Result'):
            edges.setdefault(m,set()).add(u)
# cycles among top-level modules
import sys
nodes=set(edges)|{v for vs in edges.values() for v in vs}
def reach(a,b,seen=None):
    seen=seen or set()
    for n in edges.get(a,()):
        if n==b: return True
        if n not in seen:
            seen.add(n)
            if reach(n,b,seen): return True
    return False
cyc=[(a,b) for a in nodes for b in edges.get(a,()) if reach(b,a)]
for a in sorted(edges): print(a,'->',sorted(edges[a]))
if cyc:
    sys.exit(f'import cycles between top-level modules: {sorted(cyc)}')
print('no import cycle between the top-level modules of src/')
