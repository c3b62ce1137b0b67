// Command freeports prints n free TCP ports on 127.0.0.1, one a line, for
// bench scripts that must pass listen addresses to processes up front.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
)

func main() {
	n := flag.Int("n", 1, "how many ports")
	flag.Parse()
	// Hold every listener open until all are chosen, so the n ports are
	// distinct; they are free again (and may be reused by others, a race
	// the scripts accept) once this process exits.
	var held []net.Listener
	for range *n {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		held = append(held, lis)
		fmt.Println(lis.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range held {
		l.Close()
	}
}
