extension Duration {
    /// The duration in seconds as a `Double`: the one conversion histograms use for bounds and observations, so a
    /// value equal to a bound lands in that bound's bucket.
    var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
