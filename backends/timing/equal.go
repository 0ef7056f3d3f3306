package timing

import "reflect"

// Equal reports whether two decodes reached the same result: equal times,
// counters and gap histograms, and errors of the same type and value (two
// *MalformedError of equal offset and text are equal though distinct
// pointers). The decoders' fuzz targets compare a whole-buffer decode with
// a chunked one this way: comparing fmt.Sprint of both printed the 2 KiB
// gap histogram by reflection twice per input and, fmt being
// coverage-instrumented while fuzzing, made inputs look interesting only
// because their numbers printed differently.
func (s Stream) Equal(o Stream) bool {
	es, eo := s.Err, o.Err
	s.Err, o.Err = nil, nil
	return s == o && sameError(es, eo)
}

// sameError compares errors by type and by the value they point to.
func sameError(a, b error) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	if va.Kind() == reflect.Pointer && va.Elem().Comparable() {
		return va.Elem().Interface() == vb.Elem().Interface()
	}
	return a.Error() == b.Error()
}
