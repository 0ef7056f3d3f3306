// Package godoc reads the doc comments of Go type declarations from
// embedded source files, so that JSON Schemas generated from the types
// (scenario files, summary.json) carry the same descriptions in any build.
package godoc

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"
)

// TypeComments maps "Type" and "Type.Field" to the doc comments in the
// embedded sources.
func TypeComments(sources fs.ReadDirFS) (map[string]string, error) {
	out := map[string]string{}
	entries, err := sources.ReadDir(".")
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		src, err := fs.ReadFile(sources, e.Name())
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, e.Name(), src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				out[ts.Name.Name] = cleanComment(doc.Text())
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, field := range st.Fields.List {
					for _, name := range field.Names {
						out[ts.Name.Name+"."+name.Name] = cleanComment(field.Doc.Text())
					}
				}
			}
		}
	}
	return out, nil
}

// cleanComment joins a doc comment's lines into one paragraph per blank line
// and drops indented blocks, which read badly in editor tooltips.
func cleanComment(s string) string {
	var paras []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			paras = append(paras, strings.Join(cur, " "))
			cur = nil
		}
	}
	for _, line := range strings.Split(s, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "  "):
			// code block
		default:
			cur = append(cur, strings.TrimSpace(line))
		}
	}
	flush()
	return strings.Join(paras, "\n\n")
}
