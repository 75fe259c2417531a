package rib

import "github.com/lsrd/lsrd/api"

// Source says where a route was learned (api.RouteSource: the control
// API shows it by name).
type Source = api.RouteSource

// Route sources, each with its default administrative distance; their
// names are api.RouteSource's.
const (
	SourceConnected = api.SourceConnected
	SourceStatic    = api.SourceStatic
	SourceKernel    = api.SourceKernel
	SourceBGP       = api.SourceBGP
)

// NextHop is api.RouteNextHop, the control API's wire type.
type NextHop = api.RouteNextHop

// Route is api.Route, the control API's wire type.
type Route = api.Route
