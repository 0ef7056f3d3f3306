//go:build race

package profile

// raceEnabled: the race detector slows the harness's request handling
// several-fold, and that time lands in the recorded TTFTs.
const raceEnabled = true
