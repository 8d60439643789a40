package store

import (
	"context"
	"fmt"
	"testing"
)

// fillContacts stores n contacts, "Contact 00000" ... with one address each, in one import.
func fillContacts(b *testing.B, s *Store, n int) {
	b.Helper()
	cs := make([]Contact, n)
	for i := range cs {
		cs[i] = Contact{Name: fmt.Sprintf("Contact %05d", i), URIs: []string{fmt.Sprintf("sip:c%d@example.com", i)}}
	}
	if r, err := s.ImportContacts(context.Background(), cs); err != nil || r.Added != n {
		b.Fatalf("import: %+v, %v", r, err)
	}
}

// BenchmarkSearchContacts is the dialer's completion query in a 10 000-contact book.
func BenchmarkSearchContacts(b *testing.B) {
	s := newMemory(b)
	fillContacts(b, s, 10000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cs, err := s.SearchContacts(ctx, "contact 0999", 10)
		if err != nil || len(cs) != 10 {
			b.Fatalf("%d, %v", len(cs), err)
		}
	}
}

// BenchmarkNameFor is one peer's name looked up in a 10 000-contact book (the history listing
// does it per row without the front ends' map).
func BenchmarkNameFor(b *testing.B) {
	s := newMemory(b)
	fillContacts(b, s, 10000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n, err := s.NameFor(ctx, "sip:c5000@example.com"); err != nil || n != "Contact 05000" {
			b.Fatalf("%q, %v", n, err)
		}
	}
}

// BenchmarkImportContacts imports a 1 000-card book into an empty store.
func BenchmarkImportContacts(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := OpenMemory()
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		fillContacts(b, s, 1000)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}
