// Package e2e holds lsrd's end-to-end tests in the kernel lab: lsrd
// processes in lab routers beside real FRR and gobgpd peers. It has no code
// of its own; the tests need the lab (build tag lab).
package e2e
