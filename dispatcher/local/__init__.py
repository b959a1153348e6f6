"""Running the product on one machine: embedded servers and the processes of a local stack."""
