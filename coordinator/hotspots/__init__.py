"""Hotspots (巡查热点): named places in border zones where waste is dumped — ditches, dead-end roads,
vacant lots — with a weight from their recent caseload; proposed from clustered cases."""
