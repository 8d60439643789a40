package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestNormalizeContactURI(t *testing.T) {
	for in, want := range map[string]string{
		"bob@Example.COM":                   "sip:bob@example.com",
		"SIP:Bob@Example.COM;transport=tcp": "sip:Bob@example.com;transport=tcp",
		// The URI's parameters stay (how to reach it); headers and a name-addr's tag do not.
		`"Bob" <sip:bob@example.com;transport=tls;user=phone?subject=hi>;tag=1`: "sip:bob@example.com;transport=tls;user=phone",
		"tel:+1-555-0100;phone-context=example.com":                             "tel:+15550100;phone-context=example.com",
		"sip:bob@example.com;":        "sip:bob@example.com",
		`"Bob" <sip:bob@example.com>`: "sip:bob@example.com",
		"sips:alice@example.org":      "sips:alice@example.org",
		"tel:+1 (555) 123-4567":       "tel:+15551234567",
		"example.com:5060":            "sip:example.com:5060",
		" sip:carol@192.0.2.7:5070 ":  "sip:carol@192.0.2.7:5070",
	} {
		got, err := NormalizeContactURI(in)
		if err != nil || got != want {
			t.Errorf("NormalizeContactURI(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "  ", "mailto:bob@example.com", "xmpp:bob@example.com", "sip:", "tel:", "bob@"} {
		if got, err := NormalizeContactURI(bad); err == nil {
			t.Errorf("NormalizeContactURI(%q) = %q, want an error", bad, got)
		}
	}
}

// TestContactKeepsURIParameters: an address given with ";transport=tls" is dialled with it
// (the contact's first URI), and still matched without it, or with others: one address, one
// contact. Before, the parameters were dropped, and a contact reachable only over TLS or TCP
// was called over UDP.
func TestContactKeepsURIParameters(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	id, err := s.AddContact(ctx, Contact{Name: "Secure", URIs: []string{"sips:sec@example.com;transport=tls", "sips:sec@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.ContactByName(ctx, "secure")
	if err != nil || len(c.URIs) != 1 || c.URIs[0] != "sips:sec@example.com;transport=tls" {
		t.Fatalf("ContactByName = %+v, %v; want its one address with ;transport=tls", c, err)
	}
	for _, peer := range []string{"sips:sec@example.com", "<sips:sec@EXAMPLE.com;transport=tcp>;tag=9"} {
		if got, err := s.ContactByURI(ctx, peer); err != nil || got.ID != id {
			t.Errorf("ContactByURI(%q) = %+v, %v; want contact %d", peer, got, err, id)
		}
		if name, err := s.NameFor(ctx, peer); err != nil || name != "Secure" {
			t.Errorf("NameFor(%q) = %q, %v", peer, name, err)
		}
	}
	if _, err := s.AddContact(ctx, Contact{Name: "Other", URIs: []string{"sips:sec@example.com;transport=tcp"}}); !errors.Is(err, ErrConflict) {
		t.Errorf("the same address with other parameters for another contact: %v, want ErrConflict", err)
	}
	c.URIs = []string{"sips:sec@example.com;transport=tcp"}
	if err := s.UpdateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c, err := s.ContactByName(ctx, "Secure"); err != nil || c.URIs[0] != "sips:sec@example.com;transport=tcp" {
		t.Errorf("after the update: %+v, %v", c, err)
	}
}

func TestContactsCRUD(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	id, err := s.AddContact(ctx, Contact{Name: " Bob Builder ", URIs: []string{"bob@Example.com", "tel:+1-555-0100", "sip:bob@example.com"}, Note: "work"})
	if err != nil {
		t.Fatal(err)
	}
	want := Contact{ID: id, Name: "Bob Builder", URIs: []string{"sip:bob@example.com", "tel:+15550100"}, Note: "work"}
	if got, err := s.ContactByName(ctx, "bob builder"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ContactByName = %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.ContactByURI(ctx, `"B" <sip:bob@EXAMPLE.com;transport=tls>`); err != nil || got.ID != id {
		t.Fatalf("ContactByURI = %+v, %v", got, err)
	}
	if name, err := s.NameFor(ctx, "<sip:bob@example.com>;tag=x"); err != nil || name != "Bob Builder" {
		t.Errorf("NameFor = %q, %v", name, err)
	}
	if name, err := s.NameFor(ctx, "sip:nobody@example.com"); err != nil || name != "" {
		t.Errorf("NameFor(unknown) = %q, %v; want empty", name, err)
	}
	// A second contact with the same name or with Bob's address is refused.
	if _, err := s.AddContact(ctx, Contact{Name: "BOB BUILDER", URIs: []string{"sip:other@example.com"}}); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate name: %v, want ErrConflict", err)
	}
	if _, err := s.AddContact(ctx, Contact{Name: "Robert", URIs: []string{"sip:bob@example.com"}}); !errors.Is(err, ErrConflict) {
		t.Errorf("address of another contact: %v, want ErrConflict", err)
	}
	if _, err := s.ContactByName(ctx, "Robert"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused contact was stored (rollback): %v", err)
	}
	for _, bad := range []Contact{{Name: "", URIs: []string{"sip:x@y"}}, {Name: "NoURI"}, {Name: "a\nb", URIs: []string{"sip:x@y"}},
		{Name: "Bad", URIs: []string{"mailto:x@y"}}} {
		if _, err := s.AddContact(ctx, bad); err == nil {
			t.Errorf("AddContact(%+v) succeeded", bad)
		}
	}
	aid, err := s.AddContact(ctx, Contact{Name: "alice", URIs: []string{"sip:alice@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	// Update: a new name and address; the old address is free again.
	if err := s.UpdateContact(ctx, Contact{ID: id, Name: "Bob", URIs: []string{"sip:bob@home.example"}}); err != nil {
		t.Fatal(err)
	}
	if name, _ := s.NameFor(ctx, "sip:bob@example.com"); name != "" {
		t.Errorf("the replaced address still has name %q", name)
	}
	if err := s.UpdateContact(ctx, Contact{ID: id, Name: "Alice", URIs: []string{"sip:x@example.com"}}); !errors.Is(err, ErrConflict) {
		t.Errorf("rename onto another contact: %v, want ErrConflict", err)
	}
	if err := s.UpdateContact(ctx, Contact{ID: 999, Name: "Nobody", URIs: []string{"sip:x@example.com"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a missing contact: %v, want ErrNotFound", err)
	}
	all, err := s.Contacts(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "alice" || all[1].Name != "Bob" || all[1].URIs[0] != "sip:bob@home.example" {
		t.Fatalf("Contacts = %+v, %v", all, err)
	}
	if err := s.DeleteContact(ctx, aid); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteContact(ctx, aid); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if name, _ := s.NameFor(ctx, "sip:alice@example.com"); name != "" {
		t.Errorf("a deleted contact's address still has name %q", name)
	}
	var n int
	if err := s.r.QueryRow("SELECT count(*) FROM contact_uris").Scan(&n); err != nil || n != 1 {
		t.Errorf("contact_uris rows = %d, %v; want 1 (the cascade removed alice's)", n, err)
	}
}

func TestSearchContacts(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	for i, name := range []string{"Bob", "bobby tables", "Boris", "Alice", "Émile", "b%_x"} {
		if _, err := s.AddContact(ctx, Contact{Name: name, URIs: []string{"sip:u" + string(rune('a'+i)) + "@example.com"}}); err != nil {
			t.Fatal(err)
		}
	}
	names := func(prefix string, limit int) string {
		cs, err := s.SearchContacts(ctx, prefix, limit)
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, c := range cs {
			ns = append(ns, c.Name)
		}
		return strings.Join(ns, ",")
	}
	for _, tc := range []struct {
		prefix string
		limit  int
		want   string
	}{
		{"bo", 0, "Bob,bobby tables,Boris"},
		{"BOB", 0, "Bob,bobby tables"},
		{"bo", 2, "Bob,bobby tables"},
		{"b%", 0, "b%_x"},
		{"É", 0, "Émile"},
		{"z", 0, ""},
		{"", 0, "Alice,b%_x,Bob,bobby tables,Boris,Émile"},
	} {
		if got := names(tc.prefix, tc.limit); got != tc.want {
			t.Errorf("SearchContacts(%q, %d) = %q, want %q", tc.prefix, tc.limit, got, tc.want)
		}
	}
	// The queries stay on the indexes.
	for q, idx := range map[string]string{
		"SELECT id FROM contacts WHERE name >= 'bo' AND name < 'bo~' ORDER BY name LIMIT 5": "contacts_name",
		"SELECT contact_id FROM contact_uris WHERE uri = 'sip:x@y'":                         "contact_uris_uri",
	} {
		rows, err := s.r.Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			t.Fatal(err)
		}
		var plan string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan += detail + ";"
		}
		rows.Close()
		if !strings.Contains(plan, idx) {
			t.Errorf("plan of %q = %q; want it to use %s", q, plan, idx)
		}
	}
}

func TestImportContactsMerges(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	if _, err := s.AddContact(ctx, Contact{Name: "Bob", URIs: []string{"sip:bob@example.com"}}); err != nil {
		t.Fatal(err)
	}
	in := []Contact{
		{Name: "bob", URIs: []string{"sip:bob@example.com", "tel:+15550100"}, Note: "n"},
		{Name: "Carol", URIs: []string{"xmpp:carol@example.com", "sip:carol@example.com"}},
		{Name: "Thief", URIs: []string{"sip:bob@example.com"}},
		{Name: "Nobody", URIs: []string{"mailto:x@example.com"}},
		{Name: "", URIs: []string{"sip:anon@example.com"}},
	}
	r, err := s.ImportContacts(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Added != 1 || r.Updated != 1 || r.Unchanged != 0 || len(r.Skipped) != 3 {
		t.Fatalf("first import = %+v", r)
	}
	bob, _ := s.ContactByName(ctx, "Bob")
	if !reflect.DeepEqual(bob.URIs, []string{"sip:bob@example.com", "tel:+15550100"}) || bob.Note != "n" {
		t.Errorf("merged Bob = %+v", bob)
	}
	r, err = s.ImportContacts(ctx, in)
	if err != nil || r.Added != 0 || r.Updated != 0 || r.Unchanged != 2 {
		t.Errorf("second import = %+v, %v; want nothing changed", r, err)
	}
}

// TestUpgradeFromV3 opens a file at the call-quality schema with a call in it: the upgrade
// adds the address book and the call's peer gets the name of the contact added afterwards.
func TestUpgradeFromV3(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	db := rawDB(t, path)
	if n, err := migrate(ctx, db, migrations[:3]); err != nil || n != 3 {
		t.Fatalf("migrate to v3: applied %d, %v", n, err)
	}
	if _, err := db.Exec(`INSERT INTO calls (call_id, direction, account, peer, peer_name, start_us, code, codec, mos_avg)
		VALUES ('old', 'outgoing', 'me', 'sip:bob@example.com', '', ?, 200, 'PCMU', 4.2)`, t0.UnixMicro()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Read-only, the v3 file lists its calls and has no contacts (not an error).
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if cs, err := ro.Contacts(ctx); err != nil || len(cs) != 0 {
		t.Errorf("read-only v3 Contacts = %v, %v", cs, err)
	}
	if name, err := ro.NameFor(ctx, "sip:bob@example.com"); err != nil || name != "" {
		t.Errorf("read-only v3 NameFor = %q, %v", name, err)
	}
	ro.Close()

	s := openFile(t, path)
	if v := pragmaInt(t, s.w, "user_version"); v < contactsVersion || v != len(migrations) {
		t.Fatalf("after upgrade user_version = %d, want %d", v, len(migrations))
	}
	if _, err := s.AddContact(ctx, Contact{Name: "Bob", URIs: []string{"bob@example.com"}}); err != nil {
		t.Fatal(err)
	}
	calls, err := s.Calls(ctx, Query{})
	if err != nil || len(calls) != 1 || calls[0].Quality == nil || calls[0].Quality.MOSAvg != 4.2 {
		t.Fatalf("calls after upgrade = %+v, %v", calls, err)
	}
	if name, err := s.NameFor(ctx, calls[0].Peer); err != nil || name != "Bob" {
		t.Errorf("NameFor(%s) = %q, %v; want Bob", calls[0].Peer, name, err)
	}
}

func TestNameForTelAlias(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	if _, err := s.AddContact(ctx, Contact{Name: "Ada", URIs: []string{"tel:+44 20 7946 0018"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContact(ctx, Contact{Name: "Ada at work", URIs: []string{"sip:+442079460018@work.example"}}); err != nil {
		t.Fatal(err)
	}
	for peer, want := range map[string]string{
		"sip:+442079460018@provider.example;user=phone": "Ada",
		`"x" <sips:+44-20-7946-0018@p.example>`:         "Ada",
		"sip:+442079460018@work.example":                "Ada at work", // the address itself wins
		"sip:442079460018@provider.example":             "",            // another number: no '+'
		"sip:ada@provider.example":                      "",
	} {
		if got, err := s.NameFor(ctx, peer); err != nil || got != want {
			t.Errorf("NameFor(%q) = %q, %v; want %q", peer, got, err, want)
		}
	}
	for in, want := range map[string]string{"sip:+1555@h": "tel:+1555", "sip:0301234;isub=1@h": "tel:0301234",
		"sip:bob@h": "", "sip:12@h": "", "tel:+1555": "", "sip:+1555": ""} {
		if got := TelAlias(in); got != want {
			t.Errorf("TelAlias(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestContactAsABareNumber: a contact added as a bare phone number is a tel: address, so a
// call from that number through a provider finds its name; it was stored as sip:+15550100,
// a SIP address whose host was the number, and never matched.
func TestContactAsABareNumber(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	if _, err := s.AddContact(ctx, Contact{Name: "Mom", URIs: []string{"+1 555-0100"}}); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Contacts(ctx)
	if err != nil || len(cs) != 1 || len(cs[0].URIs) != 1 || !strings.HasPrefix(cs[0].URIs[0], "tel:") {
		t.Fatalf("contacts %+v, %v; want the number as a tel: address", cs, err)
	}
	if name, err := s.NameFor(ctx, "sip:+15550100@provider.example"); err != nil || name != "Mom" {
		t.Fatalf("NameFor the number through a provider = %q, %v; want Mom", name, err)
	}
	for _, u := range []string{"bob@example.com", "example.com", "10.0.0.1:5060", "10.0.0.1"} {
		if n, err := NormalizeContactURI(u); err != nil || !strings.HasPrefix(n, "sip:") {
			t.Errorf("NormalizeContactURI(%q) = %q, %v; want a sip: address", u, n, err)
		}
	}
}

// TestContactNamesUniqueInAnyCase: names are one whatever the letter case, non-ASCII letters too
// (the table's NOCASE folds ASCII only: "Émile" and "émile" were two contacts), and one
// spelling of a name (NFC): José typed with a combining accent is the José stored.
func TestContactNamesUniqueInAnyCase(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	if _, err := s.AddContact(ctx, Contact{Name: "Émile", URIs: []string{"sip:a@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContact(ctx, Contact{Name: "émile", URIs: []string{"sip:b@example.com"}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second Émile in lower case: %v, want ErrConflict", err)
	}
	id, err := s.AddContact(ctx, Contact{Name: "Jose\u0301", URIs: []string{"sip:jose@example.com"}}) // NFD
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContact(ctx, Contact{Name: "José", URIs: []string{"sip:j2@example.com"}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("José in NFC beside José in NFD: %v, want ErrConflict", err)
	}
	c, err := s.ContactByURI(ctx, "sip:jose@example.com")
	if err != nil || c.Name != "José" || c.ID != id {
		t.Fatalf("stored %q, %v; want it NFC", c.Name, err)
	}
	if err := s.UpdateContact(ctx, Contact{ID: id, Name: "ÉMILE", URIs: []string{"sip:jose@example.com"}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("renaming to ÉMILE: %v, want ErrConflict", err)
	}
	for _, name := range []string{"émile", "ÉMILE", "jose\u0301"} {
		if c, err := s.ContactByName(ctx, name); err != nil || !strings.EqualFold(c.Name, norm.NFC.String(name)) {
			t.Errorf("ContactByName(%q): %q, %v", name, c.Name, err)
		}
	}
}

// TestImportKeepsNamesUnique: import makes one contact of names that differ only in a
// non-ASCII letter's case or Unicode form, in one file or against one stored (it inserted them
// without the check AddContact makes); a name stored NFD before names were kept NFC is found.
func TestImportKeepsNamesUnique(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	// As an older dialtone stored it: NFD, written past cleanContact.
	if _, err := s.w.ExecContext(ctx, `INSERT INTO contacts (name, note) VALUES (?, '')`, "Jose\u0301"); err != nil {
		t.Fatal(err)
	}
	r, err := s.ImportContacts(ctx, []Contact{
		{Name: "Émile", URIs: []string{"sip:a@example.com"}},
		{Name: "émile", URIs: []string{"sip:b@example.com"}},
		{Name: "JOSÉ", URIs: []string{"sip:jose@example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := s.Contacts(ctx)
	if r.Added != 1 || r.Updated != 2 || len(all) != 2 {
		t.Fatalf("import: %+v, %d contacts %+v; want Émile added once (with both addresses) and José's stored one updated", r, len(all), all)
	}
	if c, err := s.ContactByName(ctx, "josé"); err != nil || len(c.URIs) != 1 {
		t.Fatalf("the NFD José by name: %+v, %v", c, err)
	}
}

// TestContactsOfAFileBeforeParameters: a v7 file (addresses without parameters) lists its
// contacts read-only, and upgraded, keeps them and takes parameters for new ones.
func TestContactsOfAFileBeforeParameters(t *testing.T) {
	ctx := context.Background()
	path := tempDB(t)
	db := rawDB(t, path)
	if _, err := migrate(ctx, db, migrations[:contactParamsVersion-1]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO contacts (id, name, note) VALUES (1, 'Bob', '');
		INSERT INTO contact_uris (contact_id, pos, uri) VALUES (1, 0, 'sip:bob@example.com')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if cs, err := ro.Contacts(ctx); err != nil || len(cs) != 1 || !reflect.DeepEqual(cs[0].URIs, []string{"sip:bob@example.com"}) {
		t.Errorf("read-only v%d Contacts = %+v, %v", contactParamsVersion-1, cs, err)
	}
	ro.Close()

	s := openFile(t, path)
	c, err := s.ContactByName(ctx, "Bob")
	if err != nil || !reflect.DeepEqual(c.URIs, []string{"sip:bob@example.com"}) {
		t.Fatalf("after the upgrade: %+v, %v", c, err)
	}
	c.URIs = append(c.URIs, "sip:bob@work.example.com;transport=tcp")
	if err := s.UpdateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c, err := s.ContactByName(ctx, "Bob"); err != nil || c.URIs[1] != "sip:bob@work.example.com;transport=tcp" {
		t.Errorf("a new address's parameters after the upgrade: %+v, %v", c, err)
	}
}
