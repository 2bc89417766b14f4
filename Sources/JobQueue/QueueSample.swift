/// One reading of the queue from the database: depth by state, the oldest ready job's age, ready jobs no live worker
/// runs, and what MVCC leaves behind (the xmin horizon's age, dead tuples, sizes and vacuum ages of the tables).
///
/// Finished states other than `dead` are not sampled: counting them would scan every retained row.
public struct QueueSample: Sendable, Equatable {
    /// Jobs per sampled state: `scheduled`, `available`, `running`, `dead`.
    public var depth: [JobState: Int]
    /// Seconds since the oldest `available` job became due; 0 when none is ready.
    public var oldestReadyAge: Double
    /// Ready jobs waiting longer than the sampler's threshold whose kind no live worker registered (counted among the
    /// first 50,000 such jobs).
    public var unrunnable: Int
    /// Seconds the oldest transaction or snapshot holding the xmin horizon has been open (0: none); the sampler
    /// raises it to the age of the oldest of ``hiddenSnapshots`` when that is older (see ``HorizonWatch``).
    public var horizonAge: Double
    /// What holds the horizon without a start this worker can read (other roles' sessions without
    /// `pg_read_all_stats`, replication slots), not counted in the database's reading of ``horizonAge``.
    package var hiddenSnapshots: [HorizonWatch.Snapshot] = []
    /// The queue's tables (`jobs`, `job_workers`, `periodic_runs`).
    public var tables: [TableStats]

    /// Dead tuples, size and vacuum age of one table.
    public struct TableStats: Sendable, Equatable {
        public var name: String
        public var deadTuples: Int
        public var liveTuples: Int
        /// Heap and TOAST bytes.
        public var tableBytes: Int
        public var indexBytes: Int
        /// Seconds since its last vacuum or autovacuum (since the server started when never).
        public var vacuumAge: Double

        public init(name: String, deadTuples: Int, liveTuples: Int, tableBytes: Int, indexBytes: Int, vacuumAge: Double)
        {
            self.name = name
            self.deadTuples = deadTuples
            self.liveTuples = liveTuples
            self.tableBytes = tableBytes
            self.indexBytes = indexBytes
            self.vacuumAge = vacuumAge
        }
    }

    /// The states a sample counts.
    public static let sampledStates: [JobState] = [.scheduled, .available, .running, .dead]

    public init(
        depth: [JobState: Int],
        oldestReadyAge: Double,
        unrunnable: Int = 0,
        horizonAge: Double = 0,
        tables: [TableStats] = []
    ) {
        self.depth = depth
        self.oldestReadyAge = oldestReadyAge
        self.unrunnable = unrunnable
        self.horizonAge = horizonAge
        self.tables = tables
    }
}
