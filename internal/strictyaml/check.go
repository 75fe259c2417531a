package strictyaml

import (
	"encoding"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// check walks the document against the Go type it is decoded into and
// returns the first fault in the file's own words: the line, the key path
// as the file writes it (ldp.interfaces[0].name), the value, and what was
// expected, with a suggestion for a misspelt key. Nothing of Go's type
// names or parsers' function names reaches the operator.
func check(n *yaml.Node, t reflect.Type, path string) error {
	for n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // the zero value: defaults apply
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	switch {
	case pt.Implements(reflect.TypeFor[yaml.Unmarshaler]()):
		if n.Kind != yaml.ScalarNode {
			return fault(n, path, "want a single value, have "+kindName(n))
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			return fault(n, path, cleanReason(err.Error()))
		}
		return nil
	case pt.Implements(reflect.TypeFor[encoding.TextUnmarshaler]()):
		if n.Kind != yaml.ScalarNode {
			return fault(n, path, "want "+noun(t)+", have "+kindName(n))
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			return fault(n, path, fmt.Sprintf("%q is not %s: %s", n.Value, noun(t), cleanReason(err.Error())))
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return fault(n, path, "want a section of key: value lines, have "+kindName(n))
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			if !ok {
				return fault(k, join(path, k.Value), unknownKey(k.Value, fields))
			}
			if err := check(v, f, join(path, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return fault(n, path, "want a list (lines starting with \"- \", or [a, b]), have "+kindName(n))
		}
		for i, item := range n.Content {
			if err := check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return fault(n, path, "want a section of key: value lines, have "+kindName(n))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := check(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case reflect.Interface:
	default:
		if n.Kind != yaml.ScalarNode {
			return fault(n, path, "want "+noun(t)+", have "+kindName(n))
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			return fault(n, path, fmt.Sprintf("%q is not %s", n.Value, noun(t)))
		}
	}
	return nil
}

// Fault is a configuration error at a line of the file.
type Fault struct {
	Line int
	Path string // the key path, as the file writes it
	Msg  string
}

func (f *Fault) Error() string {
	if f.Path == "" {
		return fmt.Sprintf("line %d: %s", f.Line, f.Msg)
	}
	return fmt.Sprintf("line %d: field %s: %s", f.Line, f.Path, f.Msg)
}

// Lines maps every key path of a YAML document (ldp.interfaces[0].name) to
// the line its value starts on, for errors found after decoding.
func Lines(b []byte) map[string]int {
	var root yaml.Node
	out := map[string]int{}
	if yaml.Unmarshal(b, &root) != nil {
		return out
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
			n = n.Content[0]
		}
		if path != "" {
			out[path] = n.Line
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], join(path, n.Content[i].Value))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(&root, "")
	return out
}

func fault(n *yaml.Node, path, msg string) error { return &Fault{Line: n.Line, Path: path, Msg: msg} }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps a struct's YAML keys to their types, inline structs
// flattened.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-":
		case strings.Contains(opts, "inline"):
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range yamlFields(ft) {
				out[k] = v
			}
		case name == "":
			out[strings.ToLower(f.Name)] = f.Type
		default:
			out[name] = f.Type
		}
	}
	return out
}

// unknownKey says a key is not known, suggesting the closest known one.
func unknownKey(key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	best, bestD := "", 1<<30
	for _, k := range names {
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" && bestD <= max(2, len(key)/3) {
		return fmt.Sprintf("unknown key; did you mean %s?", best)
	}
	return "unknown key; this section takes " + strings.Join(names, ", ")
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// kindName says what a node is, as an operator reads the file.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a section of key: value lines"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

// noun says what a value of t must be.
func noun(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[netip.Addr]():
		return "an IP address"
	case reflect.TypeFor[netip.Prefix]():
		return "a prefix (address/length, like 10.0.0.0/24)"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return "a single value"
}

// goCall matches the function-call prefixes Go's parsers put on their
// errors, like ParseAddr("2.2.2.300"): or netip.ParsePrefix("10.0.0/24"):.
var goCall = regexp.MustCompile(`^[A-Za-z_][\w.]*\("[^"]*"\): `)

// cleanReason strips Go's call prefixes and YAML's own line prefix.
func cleanReason(s string) string {
	s = strings.TrimPrefix(s, "yaml: ")
	if rest, ok := strings.CutPrefix(s, "line "); ok {
		if i := strings.Index(rest, ": "); i >= 0 && strings.Trim(rest[:i], "0123456789") == "" {
			s = rest[i+2:]
		}
	}
	for {
		loc := goCall.FindStringIndex(s)
		if loc == nil {
			return s
		}
		s = s[loc[1]:]
	}
}
