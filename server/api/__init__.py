"""The device API (`/api/v1`): the contract the kiosk, the gate and the key cabinet use."""
