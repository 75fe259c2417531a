// Package strictyaml decodes lsrd's YAML files (the configuration, planet
// specs) the one way they are all read: unknown keys are errors, so that a
// typo is refused instead of silently ignored, and errors name the file.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrEmpty is returned, wrapped with the file name, for a file with no
// document in it.
var ErrEmpty = errors.New("empty file")

// Decode reads one YAML document from b into v; name is used in errors.
// A fault in the document is reported with its line, the key path and the
// value as the file writes them (a *Fault wrapped with the file name).
func Decode(name string, b []byte, v any) error {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if root.Kind == 0 {
		return fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	if err := check(&root, reflect.TypeOf(v), ""); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: %w", name, ErrEmpty)
		}
		return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}
