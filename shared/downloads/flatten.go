package downloads

import "strconv"

// flatPair is one flattened entry: a dotted key and a leaf value (never a list or dict).
type flatPair struct {
	key string
	v   *value
}

// flattener is Lookit's flatten_dict (exp/utils.py): a dict whose values may be lists or dicts
// becomes a dict of leaves under dotted keys ("a.b.0.c"); list elements are keyed by index; an
// empty list or dict yields no key at all. Keys that collide ({"a": {"x": 1}, "a.x": 2}) keep
// the first position and the last value, as Python's dict() does. The buffers are reused.
type flattener struct {
	pairs []flatPair
	at    map[string]int
	path  []byte
}

// members flattens the members of v (an object's members, or an array's elements keyed by
// index) into f.pairs, replacing what was there. A scalar v is one pair under the key "".
func (f *flattener) members(v *value) []flatPair {
	f.pairs = f.pairs[:0]
	switch v.kind {
	case objectKind:
		for i := range v.elems {
			f.add(v.keys[i], &v.elems[i])
		}
	case arrayKind:
		for i := range v.elems {
			f.add(strconv.Itoa(i), &v.elems[i])
		}
	default:
		f.pairs = append(f.pairs, flatPair{"", v})
	}
	f.dedupe()
	return f.pairs
}

// cells flattens a row of cells, as Lookit flattens {col.id: extractor(resp)}.
func (f *flattener) cells(cells []cell) []flatPair {
	f.pairs = f.pairs[:0]
	for i := range cells {
		f.add(cells[i].id, &cells[i].v)
	}
	f.dedupe()
	return f.pairs
}

// add flattens v under key: Python's expand(key, value).
func (f *flattener) add(key string, v *value) {
	f.path = append(f.path[:0], key...)
	f.addPath(f.path, v)
}

// addPath builds keys in one growing buffer, so deep nesting costs the length of the keys
// written and no more.
func (f *flattener) addPath(path []byte, v *value) {
	switch v.kind {
	case objectKind:
		for i := range v.elems {
			f.addPath(append(append(path, '.'), v.keys[i]...), &v.elems[i])
		}
	case arrayKind:
		for i := range v.elems {
			f.addPath(strconv.AppendInt(append(path, '.'), int64(i), 10), &v.elems[i])
		}
	default:
		f.pairs = append(f.pairs, flatPair{string(path), v})
	}
}

func (f *flattener) dedupe() {
	if len(f.pairs) < 2 {
		return
	}
	if f.at == nil {
		f.at = make(map[string]int)
	}
	clear(f.at)
	out := f.pairs[:0]
	for _, p := range f.pairs {
		if j, ok := f.at[p.key]; ok {
			out[j].v = p.v
			continue
		}
		f.at[p.key] = len(out)
		out = append(out, p)
	}
	f.pairs = out
}
