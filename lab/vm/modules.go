package vm

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ModuleIndex maps module names to their .ko files in one kernel's module tree
// and knows which modules are built in.
type ModuleIndex struct {
	dir     string
	files   map[string]string // normalized name -> path
	builtin map[string]bool
}

// normalizeModule folds '-' into '_' the way the kernel does when it compares
// module names.
func normalizeModule(name string) string {
	return strings.ReplaceAll(strings.TrimSuffix(name, ".ko"), "-", "_")
}

// IndexModules reads a lib/modules/<release> directory.
func IndexModules(dir string) (*ModuleIndex, error) {
	idx := &ModuleIndex{dir: dir, files: map[string]string{}, builtin: map[string]bool{}}
	err := filepath.WalkDir(filepath.Join(dir, "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".ko") {
			idx.files[normalizeModule(filepath.Base(p))] = p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lab modules: indexing %s: %w", dir, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			idx.builtin[normalizeModule(filepath.Base(sc.Text()))] = true
		}
	}
	return idx, nil
}

// ModuleDepends returns the modules a .ko file names on its depends= line in
// its .modinfo section, the same field modprobe reads.
func ModuleDepends(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lab modules: %s: %w", path, err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("lab modules: %s has no .modinfo section", path)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("lab modules: %s: reading .modinfo: %w", path, err)
	}
	for _, field := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(field, []byte("depends=")); ok {
			if len(v) == 0 {
				return nil, nil
			}
			var deps []string
			for _, d := range strings.Split(string(v), ",") {
				deps = append(deps, normalizeModule(d))
			}
			return deps, nil
		}
	}
	return nil, nil
}

// Resolve returns the .ko files to insmod, in an order where every module comes
// after the modules it depends on, for the wanted modules and their
// dependencies. Built-in modules are skipped; an unknown module is an error that
// names it.
func (idx *ModuleIndex) Resolve(wanted []string) ([]string, error) {
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name, from string) error
	visit = func(name, from string) error {
		name = normalizeModule(name)
		switch state[name] {
		case 1:
			return fmt.Errorf("lab modules: dependency cycle through %s", name)
		case 2:
			return nil
		}
		if idx.builtin[name] {
			state[name] = 2
			return nil
		}
		path, ok := idx.files[name]
		if !ok {
			if from != "" {
				return fmt.Errorf("lab modules: module %s (needed by %s) not found in %s", name, from, idx.dir)
			}
			return fmt.Errorf("lab modules: module %s not found in %s", name, idx.dir)
		}
		state[name] = 1
		deps, err := ModuleDepends(path)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, path)
		return nil
	}
	for _, w := range wanted {
		if err := visit(w, ""); err != nil {
			return nil, err
		}
	}
	return order, nil
}
