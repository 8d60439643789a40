package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// ModeWarning returns advice when the file at path can be read or written by
// group or others (mode wider than 0600), and "" otherwise, also when path is
// "" or cannot be inspected (whoever reads it reports that). A config file
// names password sources and a password file holds the secret itself, so
// both deserve the same care as ~/.ssh keys; the file is used either way,
// as OpenSSH does for a config file and Kamailio for its certificates.
func ModeWarning(path string) string {
	if path == "" || runtime.GOOS == "windows" {
		return ""
	}
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	perm := st.Mode().Perm()
	switch {
	case perm&0o044 != 0:
		return fmt.Sprintf("%s is readable by other users (mode %04o); chmod 600 it", path, perm)
	case perm&0o022 != 0:
		return fmt.Sprintf("%s is writable by other users (mode %04o); chmod 600 it", path, perm)
	}
	return ""
}

// FileWarnings returns mode warnings for the config file itself and for the
// [sip] table's turn_password_file. Accounts' files are in Account.FileWarnings,
// so that only the accounts in use are warned about.
func (f *File) FileWarnings() []string {
	var w []string
	if s := ModeWarning(f.Path); s != "" {
		w = append(w, s)
	}
	if f.SIP.TURNPasswordFile != "" {
		dir := ""
		if f.Path != "" {
			dir = filepath.Dir(f.Path)
		}
		if s := turnFileWarning("[sip]", f.SIP.NAT, dir); s != "" {
			w = append(w, s)
		}
	}
	return w
}

// FileWarnings returns mode warnings for the account's password_file and
// turn_password_file.
func (a Account) FileWarnings() []string {
	var w []string
	if s := a.PasswordFileWarning(); s != "" {
		w = append(w, s)
	}
	if s := turnFileWarning("account "+a.Name, a.NAT, a.dir); s != "" {
		w = append(w, s)
	}
	return w
}

// turnFileWarning is ModeWarning for n's turn_password_file, resolved the way
// NAT.TURNPassword resolves it, prefixed with where the key is set.
func turnFileWarning(where string, n NAT, dir string) string {
	if n.TURNPasswordFile == "" {
		return ""
	}
	path, err := Account{PasswordFile: n.TURNPasswordFile, dir: dir}.passwordFilePath()
	if err != nil {
		return ""
	}
	if s := ModeWarning(path); s != "" {
		return where + ": turn_password_file " + s
	}
	return ""
}
