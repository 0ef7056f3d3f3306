package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the loader. Whatever the input, Parse
// must not panic or hang, must return either a scenario or a non-empty
// Errors, and a scenario it accepts must revalidate cleanly and drive the
// request stream (which relies on the loader's checks: two MMPP states,
// positive rates, a bounded run).
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../testdata/good/*.yaml", "../testdata/bad/*.yaml", "library/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(minimal))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			if s != nil {
				t.Fatal("scenario returned with an error")
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("want a non-empty Errors, got %T %v", err, err)
			}
			for _, e := range errs {
				if e.Msg == "" || e.File != "fuzz.yaml" {
					t.Fatalf("incomplete error %#v", e)
				}
			}
			return
		}
		if errs := Validate(s); len(errs) > 0 {
			t.Fatalf("accepted scenario does not revalidate: %v", errs)
		}
		st, err := NewStream(s, 0)
		if err != nil {
			return // a trace file that cannot be opened now
		}
		defer st.Close()
		var r Request
		for i := 0; i < 20 && st.Next(&r); i++ {
			if r.At < 0 || r.InputTokens < 0 || r.OutputTokens < 0 || r.OutputTokens > r.MaxTokens {
				t.Fatalf("bad request %+v", r)
			}
		}
	})
}
