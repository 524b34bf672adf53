# Go caches live under the shopstream cache so one directory holds everything heavy.
export GOMODCACHE="$SHOPSTREAM_CACHE/go/mod"
export GOCACHE="$SHOPSTREAM_CACHE/go/build"
export GOFLAGS="-buildvcs=false -modcacherw"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
