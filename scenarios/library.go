package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// library holds the scenarios shipped with mcbench, so that "mcbench sim
// demo" works from any directory.
//
//go:embed library/*.yaml
var library embed.FS

// LibrarySource is the prefix of Source for scenarios from the library.
const LibrarySource = "library:"

// LibraryNames returns the names of the embedded scenarios, sorted.
func LibraryNames() []string {
	entries, _ := fs.ReadDir(library, "library") // the directory is embedded; it cannot fail
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// LibraryFile returns the YAML of the embedded scenario name, for users who
// want a starting point to copy.
func LibraryFile(name string) ([]byte, error) {
	if !slices.Contains(LibraryNames(), name) {
		return nil, fmt.Errorf("no scenario %q in the library; available: %s", name, strings.Join(LibraryNames(), ", "))
	}
	return library.ReadFile(path.Join("library", name+".yaml"))
}

// Open loads a scenario file or, when nameOrPath is not a file, the embedded
// scenario of that name (Source "library:NAME"). A name with a .yaml or .yml
// suffix, or with a path separator, is always taken as a file, so a typo in
// a path is reported as a missing file rather than a missing library entry.
func Open(nameOrPath string) (*Scenario, error) {
	if _, err := os.Stat(nameOrPath); err == nil || looksLikePath(nameOrPath) {
		return Load(nameOrPath)
	}
	data, err := LibraryFile(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("%q is neither a scenario file nor a library scenario (available: %s)", nameOrPath, strings.Join(LibraryNames(), ", "))
	}
	// Library scenarios resolve relative paths (traces) inside the library,
	// which holds none: Dir stays empty.
	return Parse(LibrarySource+nameOrPath, data)
}

func looksLikePath(s string) bool {
	return strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml") || strings.ContainsAny(s, `/\`)
}
