package scenarios

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// profileFile is what a latency profile file holds: the fields of Latency
// that a profile supplies, with the same names and syntax. Profile itself is
// absent, so a profile cannot point at another one.
type profileFile struct {
	TTFT          TimeDist `yaml:"ttft"`
	PerInputToken Duration `yaml:"per_input_token,omitempty"`
	TPOT          TimeDist `yaml:"tpot,omitempty"`
	LoadFactor    float64  `yaml:"load_factor,omitempty"`
}

// profileFields are the Latency fields a profile replaces outright.
var profileFields = []string{"ttft", "per_input_token", "tpot"}

// LoadProfile reads the latency profile file at path: a YAML mapping with
// ttft (required), per_input_token, tpot and load_factor, written as in a
// scenario's latency mapping. The Latency returned has LoadFactor 0 when the
// profile leaves it out, and Profile unset. On failure the error is an Errors
// whose positions are in the profile file, or the error opening it.
func LoadProfile(path string) (*Latency, error) {
	l, _, err := loadProfile(path)
	return l, err
}

// loadProfile is LoadProfile, also saying whether load_factor was given.
func loadProfile(path string) (*Latency, bool, error) {
	one := func(line, col int, msg string) (*Latency, bool, error) {
		return nil, false, Errors{{File: path, Line: line, Column: col, Msg: msg}}
	}
	// Stat first: opening a FIFO or a terminal named by mistake would block.
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	if !st.Mode().IsRegular() {
		return one(0, 0, "not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, false, err
	}
	if len(data) > MaxFileSize {
		return one(0, 0, fmt.Sprintf("file is larger than %d MiB; a latency profile is a few lines of YAML", MaxFileSize>>20))
	}
	if line, ok := binaryAt(data); ok {
		return one(line, 0, "not a YAML text file (binary or non-UTF-8 data)")
	}
	root, err := parseNode(data)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.File = path
			fe.Msg = strings.Replace(fe.Msg, "a scenario mapping (name, providers, deployments, workloads, strategies)", "a latency mapping (ttft, per_input_token, tpot, load_factor)", 1)
			fe.Msg = strings.Replace(fe.Msg, "no scenario; expected a mapping (name, providers, deployments, workloads, strategies)", "no latency profile; expected a mapping (ttft, per_input_token, tpot, load_factor)", 1)
			return nil, false, Errors{fe}
		}
		return one(0, 0, err.Error())
	}
	if root.Kind != yaml.MappingNode {
		return one(root.Line, root.Column, fmt.Sprintf("expected a latency mapping (ttft, per_input_token, tpot, load_factor), got %s", describe(root)))
	}
	// A profile can hold an alias bomb as well as a scenario can.
	lim, _ := CurrentLimits() // a bad LimitsEnv is reported by the scenario
	if fe, _ := checkShape(root, lim); fe != nil {
		fe.File = path
		return nil, false, Errors{fe}
	}
	var p profileFile
	x, errs, bad, msg := decodeIndexed(data, root, &p)
	if msg != "" {
		return one(0, 0, msg)
	}
	v := &validator{present: x.has}
	if !x.has("ttft") {
		v.addf("ttft", "is required: a latency profile gives at least the time to first token")
	}
	v.dist("ttft", &p.TTFT.Dist, durationText)
	v.dist("tpot", &p.TPOT.Dist, durationText)
	v.nonNegative("per_input_token", float64(p.PerInputToken), p.PerInputToken.String())
	hasLF := x.has("load_factor")
	if hasLF && !(p.LoadFactor >= 1) {
		v.addf("load_factor", "must be >= 1 (1: no slowdown under load), got %s", fmtFloat(p.LoadFactor))
	}
	errs = x.place(errs, v.errs, newPathSet(bad))
	if len(errs) > 0 {
		return nil, false, named(path, errs)
	}
	return &Latency{TTFT: p.TTFT, PerInputToken: p.PerInputToken, TPOT: p.TPOT, LoadFactor: p.LoadFactor}, hasLF, nil
}

// profilePath returns where a deployment's profile file is, relative to dir.
func profilePath(dir, file string) string {
	if filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(dir, file)
}

// profileProblems turns the error of loading the profile file (as written
// in the scenario; full is where it was looked for) into messages: one per
// problem inside it, naming the profile file, line and field.
func profileProblems(file, full string, err error) []string {
	var pes Errors
	switch {
	case errors.As(err, &pes):
		msgs := make([]string, len(pes))
		for i, pe := range pes {
			msgs[i] = "invalid latency profile: " + pe.Error()
		}
		return msgs
	case errors.Is(err, fs.ErrNotExist):
		return []string{fmt.Sprintf("latency profile %q does not exist (looked for %s)", file, full)}
	case errors.Is(err, fs.ErrPermission):
		return []string{fmt.Sprintf("latency profile %q cannot be read: permission denied", file)}
	}
	return []string{fmt.Sprintf("latency profile %q cannot be read: %v", file, err)}
}

// resolveProfiles reads the latency profile of every deployment that names
// one into its latency fields, relative to dir. present says whether the
// scenario spells out a field (see FieldError for paths); tainted whether a
// path failed to decode. Problems are returned with Path and Msg set: a
// profile that cannot be read or is invalid is reported at the deployment's
// profile field, its message naming the profile file, line and field; a
// field given both here and by the profile is reported at the field.
func resolveProfiles(s *Scenario, dir string, present, tainted func(string) bool) []*FieldError {
	var errs []*FieldError
	for i := range s.Deployments {
		l := &s.Deployments[i].Latency
		lp := indexPath("deployments", i) + ".latency"
		pp := lp + ".profile"
		if l.Profile == "" {
			if present(pp) && !tainted(pp) {
				errs = append(errs, &FieldError{Path: pp, Msg: "must name a latency profile file"})
			}
			continue
		}
		if tainted(lp) {
			continue
		}
		full := profilePath(dir, l.Profile)
		prof, hasLF, err := loadProfile(full)
		if err != nil {
			for _, msg := range profileProblems(l.Profile, full, err) {
				errs = append(errs, &FieldError{Path: pp, Msg: msg})
			}
			continue
		}
		conflict := false
		for _, f := range profileFields {
			if present(lp + "." + f) {
				errs = append(errs, &FieldError{Path: lp + "." + f, Msg: fmt.Sprintf("is given by the latency profile %q; remove it here or drop the profile", l.Profile)})
				conflict = true
			}
		}
		if hasLF && present(lp+".load_factor") {
			errs = append(errs, &FieldError{Path: lp + ".load_factor", Msg: fmt.Sprintf("is given both here and by the latency profile %q; keep one", l.Profile)})
			conflict = true
		}
		if conflict {
			continue
		}
		l.TTFT, l.PerInputToken, l.TPOT = prof.TTFT, prof.PerInputToken, prof.TPOT
		if hasLF {
			l.LoadFactor = prof.LoadFactor
		}
	}
	return errs
}
