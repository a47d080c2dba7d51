-- The starter catalog: categories, the attributes each kind and category needs, and the
-- vehicle makes, models and generations most traded in Russia. Data, not schema: later changes
-- to it are new migrations too, so every environment has the same ids.

-- Categories (parents first; path is computed by a trigger).
insert into core.categories (parent_id, slug, name, kind, listing_lifetime) values
(null, 'cars', 'Автомобили', 'car', '60 days'),
(null, 'parts', 'Запчасти', 'part', '90 days'),
(null, 'services', 'Изготовление на заказ', 'service', '180 days');

insert into core.categories (parent_id, slug, name, kind, listing_lifetime)
select
    p.id,
    v.slug,
    v.name,
    p.kind,
    p.listing_lifetime
from (
    values
    ('cars', 'passenger-cars', 'Легковые автомобили'),
    ('cars', 'suv', 'Внедорожники и кроссоверы'),
    ('cars', 'commercial', 'Лёгкий коммерческий транспорт'),
    ('parts', 'engine', 'Двигатель'),
    ('parts', 'brakes', 'Тормозная система'),
    ('parts', 'suspension', 'Подвеска'),
    ('parts', 'body', 'Кузов'),
    ('parts', 'electrical', 'Электрика'),
    ('parts', 'tyres-wheels', 'Шины и диски'),
    ('services', 'machining', 'Токарные и фрезерные работы'),
    ('services', '3d-printing', '3D-печать деталей'),
    ('services', 'welding', 'Сварка и изготовление'),
    ('services', 'upholstery', 'Перетяжка салона')
) as v (parent, slug, name)
inner join core.categories as p on v.parent = p.slug;

insert into core.categories (parent_id, slug, name, kind, listing_lifetime)
select
    p.id,
    v.slug,
    v.name,
    p.kind,
    p.listing_lifetime
from (
    values
    ('engine', 'filters', 'Фильтры'),
    ('engine', 'ignition', 'Зажигание'),
    ('engine', 'timing', 'ГРМ'),
    ('brakes', 'brake-pads', 'Тормозные колодки'),
    ('brakes', 'brake-discs', 'Тормозные диски'),
    ('suspension', 'shock-absorbers', 'Амортизаторы'),
    ('suspension', 'springs', 'Пружины'),
    ('body', 'bumpers', 'Бамперы'),
    ('body', 'lights', 'Фары и фонари'),
    ('electrical', 'batteries', 'Аккумуляторы'),
    ('electrical', 'starters-alternators', 'Стартеры и генераторы'),
    ('tyres-wheels', 'tyres', 'Шины'),
    ('tyres-wheels', 'wheels', 'Диски')
) as v (parent, slug, name)
inner join core.categories as p on v.parent = p.slug;

-- Attributes of each kind (category_id NULL), then of particular categories.
insert into core.attribute_definitions
(
    kind,
    category_id,
    name,
    label,
    value_type,
    required,
    min_value,
    max_value,
    max_length,
    pattern,
    allowed_values
)
values
('car', null, 'year', 'Год выпуска', 'integer', true, 1950, 2100, null, null, null),
('car', null, 'mileage_km', 'Пробег, км', 'integer', true, 0, 2000000, null, null, null),
('car', null, 'vin', 'VIN', 'text', false, null, null, 17, '^[A-HJ-NPR-Z0-9]{17}$', null),
(
    'car', null, 'body', 'Кузов', 'enum', true, null, null, null, null,
    array[
        'sedan', 'hatchback', 'wagon', 'suv', 'coupe', 'convertible', 'pickup', 'van', 'minivan', 'liftback'
    ]
),
('car', null, 'engine', 'Двигатель', 'text', true, null, null, 60, null, null),
(
    'car', null, 'transmission', 'Коробка передач', 'enum', true, null, null, null, null,
    array['manual', 'automatic', 'robot', 'cvt']
),
(
    'part',
    null,
    'part_number',
    'Номер детали (OEM)',
    'text',
    true,
    null,
    null,
    40,
    '^[0-9A-Za-z][0-9A-Za-z ./-]*$',
    null
),
('part', null, 'condition', 'Состояние', 'enum', true, null, null, null, null, array['new', 'used']),
('service', null, 'lead_time_days', 'Срок изготовления, дней', 'integer', true, 1, 365, null, null, null),
('service', null, 'materials', 'Материалы', 'text', true, null, null, 500, null, null),
('service', null, 'capabilities', 'Что изготавливаем', 'text', true, null, null, 2000, null, null);

insert into core.attribute_definitions
(
    kind,
    category_id,
    name,
    label,
    value_type,
    required,
    min_value,
    max_value,
    max_length,
    pattern,
    allowed_values
)
select
    c.kind,
    c.id,
    v.name,
    v.label,
    v.value_type,
    v.required,
    v.min_value,
    v.max_value,
    v.max_length,
    v.pattern,
    v.allowed_values
from (
    values
    ('batteries', 'capacity_ah', 'Ёмкость, А·ч', 'integer', true, 30, 250, null::integer, null, null::text[]),
    ('batteries', 'polarity', 'Полярность', 'enum', true, null, null, null, null, array['direct', 'reverse']),
    ('tyres', 'tyre_size', 'Размер', 'text', true, null, null, 20, '^[0-9]{3}/[0-9]{2} ?R[0-9]{2}$', null),
    (
        'tyres',
        'season',
        'Сезон',
        'enum',
        true,
        null,
        null,
        null,
        null,
        array['summer', 'winter', 'all_season']
    ),
    ('wheels', 'diameter_in', 'Диаметр, дюймов', 'integer', true, 12, 24, null, null, null),
    ('brake-discs', 'diameter_mm', 'Диаметр, мм', 'integer', false, 200, 450, null, null, null),
    (
        '3d-printing',
        'max_size_mm',
        'Наибольший размер детали, мм',
        'integer',
        true,
        10,
        2000,
        null,
        null,
        null
    )
) as v (slug, name, label, value_type, required, min_value, max_value, max_length, pattern, allowed_values)
inner join core.categories as c on v.slug = c.slug;

-- Vehicle makes, models and generations (production years as sold in Russia, approximately).
insert into core.vehicle_makes (name) values
('Lada'), ('Toyota'), ('Kia'), ('Hyundai'), ('Volkswagen'), ('Skoda'), ('Renault'), ('Nissan'),
('BMW'), ('Mercedes-Benz'), ('Audi'), ('Ford'), ('Mitsubishi'), ('Mazda'), ('Haval'), ('Chery'), ('Geely');

insert into core.vehicle_models (make_id, name)
select
    mk.id,
    v.model
from (
    values
    ('Lada', 'Granta'), ('Lada', 'Vesta'), ('Lada', 'Niva Legend'), ('Lada', 'Largus'), ('Lada', 'Priora'),
    ('Toyota', 'Camry'), ('Toyota', 'Corolla'), ('Toyota', 'RAV4'), ('Toyota', 'Land Cruiser Prado'),
    ('Kia', 'Rio'), ('Kia', 'Sportage'), ('Kia', 'Ceed'), ('Kia', 'Optima'),
    ('Hyundai', 'Solaris'), ('Hyundai', 'Creta'), ('Hyundai', 'Tucson'), ('Hyundai', 'Elantra'),
    ('Volkswagen', 'Polo'), ('Volkswagen', 'Tiguan'), ('Volkswagen', 'Passat'), ('Volkswagen', 'Golf'),
    ('Skoda', 'Octavia'), ('Skoda', 'Rapid'), ('Skoda', 'Kodiaq'),
    ('Renault', 'Logan'), ('Renault', 'Duster'), ('Renault', 'Sandero'),
    ('Nissan', 'Qashqai'), ('Nissan', 'X-Trail'), ('Nissan', 'Almera'),
    ('BMW', '3 Series'), ('BMW', '5 Series'), ('BMW', 'X5'),
    ('Mercedes-Benz', 'C-Class'), ('Mercedes-Benz', 'E-Class'), ('Mercedes-Benz', 'GLE'),
    ('Audi', 'A4'), ('Audi', 'A6'), ('Audi', 'Q5'),
    ('Ford', 'Focus'), ('Ford', 'Mondeo'), ('Ford', 'Transit'),
    ('Mitsubishi', 'Outlander'), ('Mitsubishi', 'Lancer'), ('Mitsubishi', 'Pajero Sport'),
    ('Mazda', '3'), ('Mazda', '6'), ('Mazda', 'CX-5'),
    ('Haval', 'Jolion'), ('Haval', 'F7'),
    ('Chery', 'Tiggo 7 Pro'), ('Chery', 'Tiggo 4'),
    ('Geely', 'Coolray'), ('Geely', 'Atlas')
) as v (make, model)
inner join core.vehicle_makes as mk on v.make = mk.name;

insert into core.vehicle_generations (model_id, name, year_from, year_to)
select
    m.id,
    v.generation,
    v.year_from,
    v.year_to
from (
    values
    ('Lada', 'Granta', 'I', 2011, 2018), ('Lada', 'Granta', 'I рестайлинг', 2018, null),
    ('Lada', 'Vesta', 'I', 2015, 2022), ('Lada', 'Vesta', 'NG', 2023, null),
    ('Lada', 'Niva Legend', '2121/2131', 1977, null), ('Lada', 'Largus', 'I', 2012, null),
    ('Lada', 'Priora', 'I', 2007, 2018),
    ('Toyota', 'Camry', 'XV40', 2006, 2011), ('Toyota', 'Camry', 'XV50', 2011, 2017),
    ('Toyota', 'Camry', 'XV70', 2017, null),
    ('Toyota', 'Corolla', 'E150', 2006, 2013), ('Toyota', 'Corolla', 'E170', 2013, 2019),
    ('Toyota', 'Corolla', 'E210', 2019, null),
    ('Toyota', 'RAV4', 'XA30', 2005, 2012), ('Toyota', 'RAV4', 'XA40', 2012, 2019),
    ('Toyota', 'RAV4', 'XA50', 2018, null), ('Toyota', 'Land Cruiser Prado', '150', 2009, 2023),
    ('Kia', 'Rio', 'III', 2011, 2017), ('Kia', 'Rio', 'IV', 2017, null),
    ('Kia', 'Sportage', 'III', 2010, 2016), ('Kia', 'Sportage', 'IV', 2015, 2022),
    ('Kia', 'Sportage', 'V', 2021, null),
    ('Kia', 'Ceed', 'II', 2012, 2018), ('Kia', 'Ceed', 'III', 2018, null),
    ('Kia', 'Optima', 'IV', 2015, 2020),
    ('Hyundai', 'Solaris', 'I', 2010, 2017), ('Hyundai', 'Solaris', 'II', 2017, 2022),
    ('Hyundai', 'Creta', 'I', 2016, 2021), ('Hyundai', 'Creta', 'II', 2021, null),
    ('Hyundai', 'Tucson', 'III', 2015, 2021), ('Hyundai', 'Tucson', 'IV', 2020, null),
    ('Hyundai', 'Elantra', 'VI', 2015, 2020),
    ('Volkswagen', 'Polo', 'V седан', 2010, 2020), ('Volkswagen', 'Polo', 'VI лифтбек', 2020, null),
    ('Volkswagen', 'Tiguan', 'I', 2007, 2016), ('Volkswagen', 'Tiguan', 'II', 2016, null),
    ('Volkswagen', 'Passat', 'B7', 2010, 2015), ('Volkswagen', 'Passat', 'B8', 2014, null),
    ('Volkswagen', 'Golf', 'VII', 2012, 2020),
    ('Skoda', 'Octavia', 'A5', 2004, 2013), ('Skoda', 'Octavia', 'A7', 2013, 2020),
    ('Skoda', 'Octavia', 'A8', 2020, null), ('Skoda', 'Rapid', 'I', 2012, 2020),
    ('Skoda', 'Rapid', 'II', 2020, null), ('Skoda', 'Kodiaq', 'I', 2016, null),
    ('Renault', 'Logan', 'I', 2004, 2015), ('Renault', 'Logan', 'II', 2014, 2022),
    ('Renault', 'Duster', 'I', 2010, 2021), ('Renault', 'Duster', 'II', 2020, null),
    ('Renault', 'Sandero', 'II', 2014, 2022),
    ('Nissan', 'Qashqai', 'J10', 2006, 2013), ('Nissan', 'Qashqai', 'J11', 2013, 2021),
    ('Nissan', 'X-Trail', 'T31', 2007, 2014), ('Nissan', 'X-Trail', 'T32', 2013, 2022),
    ('Nissan', 'Almera', 'G15', 2012, 2018),
    ('BMW', '3 Series', 'E90', 2005, 2012), ('BMW', '3 Series', 'F30', 2011, 2019),
    ('BMW', '3 Series', 'G20', 2019, null),
    ('BMW', '5 Series', 'F10', 2010, 2017), ('BMW', '5 Series', 'G30', 2017, 2023),
    ('BMW', 'X5', 'E70', 2006, 2013), ('BMW', 'X5', 'F15', 2013, 2018), ('BMW', 'X5', 'G05', 2018, null),
    ('Mercedes-Benz', 'C-Class', 'W204', 2007, 2014), ('Mercedes-Benz', 'C-Class', 'W205', 2014, 2021),
    ('Mercedes-Benz', 'E-Class', 'W212', 2009, 2016), ('Mercedes-Benz', 'E-Class', 'W213', 2016, 2023),
    ('Mercedes-Benz', 'GLE', 'W166', 2015, 2019), ('Mercedes-Benz', 'GLE', 'V167', 2019, null),
    ('Audi', 'A4', 'B8', 2007, 2015), ('Audi', 'A4', 'B9', 2015, null),
    ('Audi', 'A6', 'C7', 2011, 2018), ('Audi', 'A6', 'C8', 2018, null),
    ('Audi', 'Q5', '8R', 2008, 2017), ('Audi', 'Q5', 'FY', 2017, null),
    ('Ford', 'Focus', 'II', 2004, 2011), ('Ford', 'Focus', 'III', 2011, 2019),
    ('Ford', 'Mondeo', 'IV', 2007, 2014), ('Ford', 'Mondeo', 'V', 2014, 2019),
    ('Ford', 'Transit', 'VII', 2006, 2014), ('Ford', 'Transit', 'VIII', 2014, null),
    ('Mitsubishi', 'Outlander', 'II', 2005, 2012), ('Mitsubishi', 'Outlander', 'III', 2012, 2022),
    ('Mitsubishi', 'Lancer', 'X', 2007, 2017), ('Mitsubishi', 'Pajero Sport', 'III', 2015, null),
    ('Mazda', '3', 'BL', 2009, 2013), ('Mazda', '3', 'BM', 2013, 2019),
    ('Mazda', '6', 'GH', 2007, 2012), ('Mazda', '6', 'GJ', 2012, null),
    ('Mazda', 'CX-5', 'KE', 2011, 2017), ('Mazda', 'CX-5', 'KF', 2017, null),
    ('Haval', 'Jolion', 'I', 2020, null), ('Haval', 'F7', 'I', 2019, null),
    ('Chery', 'Tiggo 7 Pro', 'I', 2020, null), ('Chery', 'Tiggo 4', 'I', 2017, null),
    ('Geely', 'Coolray', 'I', 2019, null), ('Geely', 'Atlas', 'I', 2017, 2023)
) as v (make, model, generation, year_from, year_to)
inner join core.vehicle_makes as mk on v.make = mk.name
inner join core.vehicle_models as m on mk.id = m.make_id and v.model = m.name;
