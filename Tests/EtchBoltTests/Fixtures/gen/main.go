// Generates the EtchBolt unit tests' fixture with real bbolt: top-level, nested and inline buckets, a value
// spanning overflow pages, enough keys for branch pages, and free pages from deletes.
// Run: GO111MODULE=off GOPATH=/usr/share/gocode go run main.go ../nested.db
package main

import (
	"encoding/hex"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

func main() {
	if os.Args[1] == "dump" {
		dump(os.Args[2])
		return
	}
	path := os.Args[1]
	os.Remove(path)
	db, err := bolt.Open(path, 0600, nil)
	if err != nil {
		panic(err)
	}
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(db.Update(func(tx *bolt.Tx) error {
		big, _ := tx.CreateBucket([]byte("big"))
		for i := 0; i < 3000; i++ {
			must(big.Put([]byte(fmt.Sprintf("key-%06d", i)), []byte(fmt.Sprintf("value-%d", i*7))))
		}
		must(big.Put([]byte("overflow"), make([]byte, 20000)))
		outer, _ := tx.CreateBucket([]byte("outer"))
		must(outer.Put([]byte("a"), []byte("1")))
		inner, _ := outer.CreateBucket([]byte("inner"))
		must(inner.Put([]byte("x"), []byte("y")))
		deep, _ := outer.CreateBucket([]byte("large-inner"))
		for i := 0; i < 500; i++ {
			must(deep.Put([]byte(fmt.Sprintf("k%04d", i)), []byte("vvvvvvvvvvvvvvvvvvvvvvvvvvvvvv")))
		}
		small, _ := tx.CreateBucket([]byte("small"))
		must(small.Put([]byte("only"), []byte("one")))
		_, err := tx.CreateBucket([]byte("empty"))
		return err
	}))
	must(db.Update(func(tx *bolt.Tx) error {
		big := tx.Bucket([]byte("big"))
		for i := 1000; i < 1500; i++ {
			must(big.Delete([]byte(fmt.Sprintf("key-%06d", i))))
		}
		return nil
	}))
	must(db.Close())
}

// dump prints every entry of every bucket, depth first in key order: nesting depth, key and value in hex
// ("B" for a nested bucket), with bbolt's tx.Size and tx.Check's error count.
func dump(path string) {
	db, err := bolt.Open(path, 0400, &bolt.Options{ReadOnly: true})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	var walk func(b *bolt.Bucket, depth int)
	walk = func(b *bolt.Bucket, depth int) {
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil {
				fmt.Printf("%d %s B\n", depth, hex.EncodeToString(k))
				walk(b.Bucket(k), depth+1)
			} else {
				fmt.Printf("%d %s %s\n", depth, hex.EncodeToString(k), hex.EncodeToString(v))
			}
		}
	}
	db.View(func(tx *bolt.Tx) error {
		n := 0
		for range tx.Check() {
			n++
		}
		fmt.Printf("size %d check %d\n", tx.Size(), n)
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			fmt.Printf("0 %s B\n", hex.EncodeToString(name))
			walk(b, 1)
			return nil
		})
	})
}
