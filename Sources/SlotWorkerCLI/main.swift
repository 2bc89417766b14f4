print("slot-worker: not yet wired")
