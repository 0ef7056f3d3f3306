// Package wirejson picks the few fields mcbench needs out of provider JSON
// (token usage, content deltas, finish reasons, error codes) without
// decoding whole documents. Walking a document with Each validates it as
// strictly as json.Valid in the same pass, does not allocate, and never
// reads past the input whatever it holds. Strings are returned raw (still
// escaped); the fields mcbench compares are plain ASCII.
//
// The alternatives measured (see the benchmarks in backends/azure) were
// encoding/json into a reused struct, which allocates every string it sets
// (each chunk's content) and costs three to four times as much, and
// json.Valid followed by a loose walk, where json.Valid alone took 60% of
// the time.
package wirejson

import "math"

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// maxDepth is encoding/json's nesting limit, so that Valid agrees with
// json.Valid on every input.
const maxDepth = 10000

// skipString returns the index after the string starting at data[i] == '"',
// or -1 if it is not a valid JSON string (unterminated, a control character,
// a bad escape). Like json.Valid it does not check UTF-8.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(data) {
				return -1
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(data) {
					return -1
				}
				for k := 1; k <= 4; k++ {
					if _, ok := hexVal(data[i+k]); !ok {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func digits(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

// skipNumber returns the index after the number starting at data[i], or -1.
func skipNumber(data []byte, i int) int {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data):
		return -1
	case data[i] == '0':
		i++
	case data[i] >= '1' && data[i] <= '9':
		i = digits(data, i+1)
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		j := digits(data, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(data, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func literal(data []byte, i int, lit string) int {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// skip returns the index after the JSON value starting at data[i] (no
// leading space), or -1 if it is not a valid value. It checks the value as
// strictly as json.Valid, so a document walked with Each is a valid one.
func skip(data []byte, i int) int { return skipDepth(data, i, 0) }

func skipDepth(data []byte, i, depth int) int {
	if i >= len(data) {
		return -1
	}
	switch c := data[i]; {
	case c == '"':
		return skipString(data, i)
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return -1
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = skipSpace(data, i+1)
		if i < len(data) && data[i] == closing {
			return i + 1
		}
		for {
			if c == '{' {
				if i >= len(data) || data[i] != '"' {
					return -1
				}
				if i = skipString(data, i); i < 0 {
					return -1
				}
				if i = skipSpace(data, i); i >= len(data) || data[i] != ':' {
					return -1
				}
				i = skipSpace(data, i+1)
			}
			if i = skipDepth(data, i, depth+1); i < 0 {
				return -1
			}
			if i = skipSpace(data, i); i >= len(data) {
				return -1
			}
			switch data[i] {
			case ',':
				i = skipSpace(data, i+1)
			case closing:
				return i + 1
			default:
				return -1
			}
		}
	case c == 't':
		return literal(data, i, "true")
	case c == 'f':
		return literal(data, i, "false")
	case c == 'n':
		return literal(data, i, "null")
	}
	return skipNumber(data, i)
}

// Valid reports whether data is one valid JSON value (surrounded by optional
// whitespace). It agrees with json.Valid and does not allocate.
func Valid(data []byte) bool {
	i := skip(data, skipSpace(data, 0))
	return i >= 0 && skipSpace(data, i) == len(data)
}

// Each calls fn with the raw key (unquoted, still escaped) and the raw value
// of each member of the object data. It reports whether data is a valid JSON
// object (with optional whitespace around it): a document Each accepts is one
// json.Valid accepts. fn may already have been called when Each finds a
// problem further on, so callers discard what they collected on false.
func Each(data []byte, fn func(key, val []byte)) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	for i < len(data) {
		if data[i] != '"' {
			return false
		}
		ke := skipString(data, i)
		if ke < 0 {
			return false
		}
		key := data[i+1 : ke-1]
		i = skipSpace(data, ke)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		ve := skip(data, i)
		if ve < 0 {
			return false
		}
		fn(key, data[i:ve])
		i = skipSpace(data, ve)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
	return false
}

// Elems calls fn with each element of the array data. It reports whether data
// is a valid JSON array, as Each does for objects.
func Elems(data []byte, fn func(val []byte)) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return skipSpace(data, i+1) == len(data)
	}
	for i < len(data) {
		ve := skip(data, i)
		if ve < 0 {
			return false
		}
		fn(data[i:ve])
		i = skipSpace(data, ve)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case ']':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
	return false
}

// Str returns the raw content of a string value (without the quotes, still
// escaped).
func Str(val []byte) ([]byte, bool) {
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return nil, false
	}
	return val[1 : len(val)-1], true
}

// Int returns an integer value. A number with a fraction or exponent is
// truncated (some services write 12.0); values beyond ±2^31 are clamped, as
// token counts never reach them.
func Int(val []byte) (int, bool) {
	if len(val) == 0 {
		return 0, false
	}
	neg := val[0] == '-'
	i := 0
	if neg {
		i = 1
	}
	if i >= len(val) || val[i] < '0' || val[i] > '9' {
		return 0, false
	}
	n := 0
	for ; i < len(val) && val[i] >= '0' && val[i] <= '9'; i++ {
		n = min(n*10+int(val[i]-'0'), math.MaxInt32)
	}
	if i < len(val) && val[i] != '.' && val[i] != 'e' && val[i] != 'E' {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// IsNull reports whether val is the literal null.
func IsNull(val []byte) bool { return string(val) == "null" }

// Words counts the whitespace-separated words of a raw (escaped) string, the
// way the fakes count tokens: space, tab, CR and LF separate words, whether
// written literally or as escapes (\n, \t, \r, \u0020, …).
func Words(raw []byte) int {
	n, in := 0, false
	for i := 0; i < len(raw); i++ {
		sp := false
		switch c := raw[i]; {
		case c == '\\' && i+1 < len(raw):
			i++
			switch raw[i] {
			case 'n', 't', 'r':
				sp = true
			case 'u':
				if i+4 < len(raw) {
					switch string(raw[i+1 : i+5]) {
					case "0020", "000a", "000A", "0009", "000d", "000D":
						sp = true
					}
					i += 4
				}
			}
		default:
			sp = isSpace(c)
		}
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}

func hexVal(c byte) (rune, bool) {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0'), true
	case c >= 'a' && c <= 'f':
		return rune(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return rune(c-'A') + 10, true
	}
	return 0, false
}

// Unescape appends the unescaped form of raw string content to dst. Invalid
// escapes are copied as they are; \u escapes outside ASCII become '?', which
// is enough for the ASCII fields (codes, base64) it is used on.
func Unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			dst = append(dst, c)
			continue
		}
		i++
		switch e := raw[i]; e {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			r, ok := rune(0), i+4 < len(raw)
			for k := 1; ok && k <= 4; k++ {
				var h rune
				h, ok = hexVal(raw[i+k])
				r = r<<4 | h
			}
			if !ok {
				dst = append(dst, '\\', 'u')
				continue
			}
			i += 4
			if r < 0x80 {
				dst = append(dst, byte(r))
			} else {
				dst = append(dst, '?')
			}
		default:
			dst = append(dst, e)
		}
	}
	return dst
}

// Text returns a raw string's unescaped content as a string, allocating only
// when it has escapes or is not one of the interned values (finish reasons
// and error codes repeat, so the common ones are interned).
func Text(raw []byte) string {
	for _, s := range interned {
		if string(raw) == s {
			return s
		}
	}
	for _, c := range raw {
		if c == '\\' {
			return string(Unescape(nil, raw))
		}
	}
	return string(raw)
}

var interned = [...]string{
	"stop", "length", "content_filter", "tool_calls", "function_call",
	"end_turn", "max_tokens", "stop_sequence", "tool_use", "guardrail_intervened", "content_filtered",
}
