package scenarios

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJSONRoundTrip: a resolved scenario saved as JSON (run.json in a run
// directory) reads back identical, so reports can rebuild it.
func TestJSONRoundTrip(t *testing.T) {
	for _, name := range LibraryNames() {
		s, err := Open(name)
		require.NoError(t, err)
		b, err := json.Marshal(s)
		require.NoError(t, err)
		var back Scenario
		require.NoError(t, json.Unmarshal(b, &back), name)
		back.Source, back.Dir = s.Source, s.Dir
		require.Equal(t, *s, back, name)
	}
}
