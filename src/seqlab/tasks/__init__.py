"""Task room: the one LightningModule, its model (embedding -> encoder -> heads) and what
training adds to it: regularization, ensembles, schedules."""
