import unittest

from inventory import load, low_stock, total_value


class InventoryTest(unittest.TestCase):
    def setUp(self):
        self.items = load("stock.json")

    def test_total_value(self):
        self.assertAlmostEqual(total_value(self.items), 25.0 + 0.3 + 22.5)

    def test_low_stock_includes_threshold(self):
        self.assertEqual(low_stock(self.items), ["nut", "gear"])


if __name__ == "__main__":
    unittest.main()
