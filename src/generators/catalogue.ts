/**
 * The fixed category tree: eight departments, each with subcategories that carry what makes
 * their products believable (nouns, brands, price band, shipping weight). Prices of a
 * subcategory cluster inside its band, so per-category price analytics look like a real shop.
 */
export interface Subcategory {
  readonly name: string;
  readonly nouns: readonly string[];
  /** Price band in major currency units. */
  readonly minPrice: number;
  readonly maxPrice: number;
  /** Shipping weight band in kg. */
  readonly minKg: number;
  readonly maxKg: number;
}

export interface Department {
  readonly name: string;
  readonly brands: readonly string[];
  readonly subcategories: readonly Subcategory[];
}

const sub = (
  name: string,
  nouns: string[],
  [minPrice, maxPrice]: [number, number],
  [minKg, maxKg]: [number, number],
): Subcategory => ({ name, nouns, minPrice, maxPrice, minKg, maxKg });

export const DEPARTMENTS: readonly Department[] = [
  {
    name: 'Electronics',
    brands: ['Novatek', 'Voltaro', 'Quantix', 'Lumina', 'Arcwave', 'Zentro'],
    subcategories: [
      sub('Smartphones', ['Smartphone', 'Phone', 'Mini Phone'], [149, 1199], [0.15, 0.3]),
      sub('Laptops', ['Laptop', 'Notebook', 'Ultrabook', 'Chromebook'], [299, 2499], [1.0, 2.6]),
      sub('Headphones', ['Headphones', 'Earbuds', 'Headset'], [19, 399], [0.05, 0.4]),
      sub('Tablets', ['Tablet', 'E-Reader', 'Drawing Tablet'], [89, 1099], [0.3, 0.8]),
      sub('Cameras', ['Mirrorless Camera', 'Action Camera', 'Lens', 'Webcam'], [49, 1899], [0.1, 1.2]),
      sub('Smart Home', ['Smart Speaker', 'Smart Plug', 'Video Doorbell', 'Thermostat'], [15, 249], [0.1, 1.0]),
    ],
  },
  {
    name: 'Fashion',
    brands: ['Maison Rue', 'Northbound', 'Velour & Co', 'Stitchcraft', 'Urban Thread', 'Hollis'],
    subcategories: [
      sub("Women's Clothing", ['Dress', 'Blouse', 'Cardigan', 'Jeans', 'Coat'], [12, 189], [0.2, 1.2]),
      sub("Men's Clothing", ['Shirt', 'Chinos', 'Jumper', 'Jacket', 'Polo Shirt'], [12, 189], [0.2, 1.4]),
      sub('Shoes', ['Trainers', 'Boots', 'Loafers', 'Sandals'], [25, 180], [0.5, 1.5]),
      sub('Bags & Accessories', ['Backpack', 'Tote Bag', 'Wallet', 'Belt', 'Scarf'], [10, 250], [0.1, 1.2]),
      sub('Jewellery', ['Necklace', 'Bracelet', 'Earrings', 'Watch'], [15, 450], [0.02, 0.3]),
    ],
  },
  {
    name: 'Home & Kitchen',
    brands: ['Hearthstone', 'Casa Verde', 'Oakridge', 'Kitchenly', 'Nestwell'],
    subcategories: [
      sub('Cookware', ['Frying Pan', 'Saucepan Set', 'Casserole Dish', 'Knife Set'], [15, 220], [0.5, 6]),
      sub('Small Appliances', ['Kettle', 'Toaster', 'Blender', 'Coffee Machine', 'Air Fryer'], [25, 350], [1, 7]),
      sub('Furniture', ['Desk', 'Bookcase', 'Armchair', 'Dining Table', 'Bed Frame'], [60, 1200], [8, 60]),
      sub('Bedding', ['Duvet', 'Pillow Pair', 'Sheet Set', 'Mattress Topper'], [15, 180], [0.8, 5]),
      sub('Home Decor', ['Table Lamp', 'Mirror', 'Vase', 'Cushion', 'Wall Clock'], [8, 140], [0.3, 6]),
    ],
  },
  {
    name: 'Beauty & Health',
    brands: ['Lumière', 'Pure Botanica', 'Glowlab', 'Silk & Stone', 'Verdant'],
    subcategories: [
      sub('Skincare', ['Moisturiser', 'Serum', 'Cleanser', 'Sunscreen'], [6, 90], [0.05, 0.4]),
      sub('Makeup', ['Foundation', 'Mascara', 'Lipstick', 'Eyeshadow Palette'], [5, 60], [0.02, 0.3]),
      sub('Haircare', ['Shampoo', 'Conditioner', 'Hair Dryer', 'Straightener'], [5, 180], [0.2, 1.2]),
      sub('Fragrance', ['Eau de Parfum', 'Eau de Toilette', 'Body Mist'], [20, 150], [0.2, 0.6]),
      sub('Vitamins', ['Multivitamin', 'Vitamin D', 'Omega-3', 'Protein Powder'], [6, 45], [0.1, 1.2]),
    ],
  },
  {
    name: 'Sports & Outdoors',
    brands: ['Peakline', 'Stridex', 'TrailForge', 'Apexa', 'Velocita'],
    subcategories: [
      sub('Fitness Equipment', ['Dumbbell Set', 'Yoga Mat', 'Exercise Bike', 'Kettlebell'], [15, 900], [0.8, 40]),
      sub('Cycling', ['Road Bike', 'Bike Helmet', 'Bike Light Set', 'Cycling Jersey'], [20, 1500], [0.2, 12]),
      sub('Camping', ['Tent', 'Sleeping Bag', 'Camping Stove', 'Head Torch'], [15, 450], [0.1, 6]),
      sub('Team Sports', ['Football', 'Basketball', 'Cricket Bat', 'Shin Guards'], [10, 120], [0.3, 1.5]),
      sub('Activewear', ['Running Shoes', 'Leggings', 'Training Top', 'Running Shorts'], [15, 140], [0.2, 1]),
    ],
  },
  {
    name: 'Books & Media',
    brands: ['Penwright Press', 'Larkspur Books', 'Pixel Harbor', 'Echo Records', 'Inkwell'],
    subcategories: [
      sub('Fiction', ['Novel', 'Thriller', 'Short Stories', 'Fantasy Saga'], [6, 25], [0.2, 0.9]),
      sub('Non-fiction', ['Cookbook', 'Biography', 'History', 'Travel Guide'], [8, 40], [0.3, 1.5]),
      sub("Children's Books", ['Picture Book', 'Activity Book', 'Bedtime Stories'], [4, 20], [0.1, 0.8]),
      sub('Video Games', ['Adventure Game', 'Racing Game', 'Puzzle Game', 'Sports Game'], [15, 70], [0.1, 0.2]),
      sub('Music', ['Vinyl LP', 'CD Album', 'Box Set'], [8, 60], [0.1, 1]),
    ],
  },
  {
    name: 'Toys & Games',
    brands: ['Brickly', 'Playforge', 'Tinker Tots', 'Wonderbox', 'Jumbleberry'],
    subcategories: [
      sub('Building Sets', ['Building Set', 'Construction Kit', 'Marble Run'], [10, 200], [0.3, 3]),
      sub('Board Games', ['Board Game', 'Card Game', 'Strategy Game'], [12, 70], [0.3, 2]),
      sub('Dolls & Figures', ['Doll', 'Action Figure', 'Plush Toy'], [8, 60], [0.1, 1]),
      sub('Outdoor Toys', ['Scooter', 'Trampoline', 'Paddling Pool', 'Swing Set'], [15, 250], [1, 30]),
      sub('Puzzles', ['Jigsaw Puzzle', '3D Puzzle', 'Brain Teaser'], [8, 40], [0.2, 1.5]),
    ],
  },
  {
    name: 'Grocery & Gourmet',
    brands: ['Hillside Farm', 'Roastery Nine', 'Golden Pantry', 'Wildleaf', 'Crisp & Co'],
    subcategories: [
      sub('Coffee & Tea', ['Coffee Beans', 'Ground Coffee', 'Loose Leaf Tea', 'Tea Bags'], [4, 40], [0.1, 1]),
      sub('Snacks', ['Crisps', 'Chocolate Bar', 'Trail Mix', 'Biscuits'], [2, 15], [0.05, 0.6]),
      sub('Pantry', ['Olive Oil', 'Pasta', 'Honey', 'Spice Set'], [2, 25], [0.2, 1.5]),
      sub('Beverages', ['Sparkling Water', 'Juice', 'Kombucha', 'Energy Drink'], [2, 30], [0.3, 6]),
      sub('Organic', ['Organic Oats', 'Organic Granola', 'Nut Butter', 'Quinoa'], [3, 30], [0.2, 1.2]),
    ],
  },
];

/** A flat view of the tree in record order: departments first, then every subcategory. */
export interface CategoryNode {
  readonly index: number;
  readonly name: string;
  readonly department: Department;
  /** Index of the parent department, or -1 for a department. */
  readonly parentIndex: number;
  readonly subcategory?: Subcategory;
}

export const CATEGORY_NODES: readonly CategoryNode[] = (() => {
  const nodes: CategoryNode[] = DEPARTMENTS.map((department, index) => ({
    index,
    name: department.name,
    department,
    parentIndex: -1,
  }));
  DEPARTMENTS.forEach((department, parentIndex) => {
    for (const subcategory of department.subcategories) {
      nodes.push({ index: nodes.length, name: subcategory.name, department, parentIndex, subcategory });
    }
  });
  return nodes;
})();

/** Indexes of the leaf categories, the only ones products are filed under. */
export const LEAF_CATEGORY_INDEXES: readonly number[] = CATEGORY_NODES.filter((n) => n.subcategory).map(
  (n) => n.index,
);

export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, 'and')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
