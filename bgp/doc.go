// Package bgp owns lsrd's embedded BGP speaker: a GoBGP server in the same
// process, its neighbours and originated networks, and the translation of its
// best paths into rib.Route updates for the parent.
//
// It never writes the kernel and never decides labels: it hands the parent
// Updates through the onRoutes callback, and the parent's RIB resolves next
// hops and decides what reaches the forwarding plane.
package bgp
