package timing

import "testing"

// TestStreamEqual: Equal tells results apart, and equal errors behind
// distinct pointers are equal.
func TestStreamEqual(t *testing.T) {
	a := Stream{Events: 2, Tokens: 3, Err: &MalformedError{Offset: 5, What: "x"}}
	b := a
	b.Err = &MalformedError{Offset: 5, What: "x"}
	if !a.Equal(b) {
		t.Fatal("equal streams with equal errors (distinct pointers) differ")
	}
	for _, c := range []Stream{
		{Events: 2, Tokens: 3, Err: &MalformedError{Offset: 6, What: "x"}},
		{Events: 2, Tokens: 3, Err: ErrIncomplete},
		{Events: 2, Tokens: 3},
		{Events: 2, Tokens: 4, Err: a.Err},
		{Events: 2, Tokens: 3, Err: a.Err, Gaps: GapHist{Counts: [GapBuckets]uint32{1}}},
	} {
		if a.Equal(c) {
			t.Errorf("%+v and %+v compare equal", a, c)
		}
	}
}
