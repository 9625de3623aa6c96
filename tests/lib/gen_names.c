/* Name tables for the synthetic coalition population (gen.c).
 *
 * Given names of children born 2008-2016 and family names of the communities of
 * the West Midlands, Leeds and Leicester, by origin. Weights are relative
 * frequencies within a list, shaped on the published rankings (ONS baby names,
 * surname counts): the head of each list is much more common than its tail,
 * which is what makes name agreement weak evidence for common names and strong
 * evidence for rare ones. All strings are UTF-8 in NFC. */
#include <stddef.h>

#include "gen.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* clang-format off */
#define NM(s, w) { s, NULL, w }
#define SF(s, f, w) { s, f, w }
/* clang-format on */

/* ---- White British ------------------------------------------------------- */

static const struct xl_gen_name s_wb_male[] = {
    NM("Oliver", 90),      NM("Jack", 95),      NM("Harry", 85),     NM("George", 70),
    NM("Charlie", 70),     NM("Jacob", 65),     NM("Thomas", 75),    NM("Noah", 55),
    NM("Alfie", 60),       NM("Oscar", 45),     NM("James", 70),     NM("William", 60),
    NM("Joshua", 65),      NM("Leo", 45),       NM("Archie", 50),    NM("Henry", 40),
    NM("Ethan", 55),       NM("Daniel", 50),    NM("Samuel", 45),    NM("Max", 40),
    NM("Joseph", 45),      NM("Alexander", 35), NM("Isaac", 35),     NM("Freddie", 40),
    NM("Lucas", 35),       NM("Logan", 35),     NM("Dylan", 40),     NM("Jake", 35),
    NM("Riley", 35),       NM("Mason", 40),     NM("Tyler", 35),     NM("Lewis", 30),
    NM("Ryan", 30),        NM("Benjamin", 35),  NM("Edward", 25),    NM("Luke", 30),
    NM("Matthew", 30),     NM("Liam", 25),      NM("Callum", 25),    NM("Kyle", 15),
    NM("Connor", 25),      NM("Jayden", 25),    NM("Kai", 20),       NM("Reuben", 15),
    NM("Toby", 20),        NM("Harrison", 20),  NM("Sebastian", 15), NM("Finley", 25),
    NM("Theo", 25),        NM("Arthur", 15),    NM("Teddy", 10),     NM("Louie", 15),
    NM("Ellis", 10),       NM("Elliot", 10),    NM("Adam", 20),      NM("Nathan", 20),
    NM("Owen", 15),        NM("Bradley", 15),   NM("Aaron", 12),     NM("Michael", 15),
    NM("Christopher", 12), NM("Jamie", 15),     NM("Cameron", 15),   NM("Robert", 10),
    NM("Nicholas", 8),     NM("Jonathan", 8),   NM("Anthony", 6),    NM("Richard", 5),
    NM("Stanley", 10),     NM("Frankie", 10),   NM("Ronnie", 8),     NM("Albie", 8),
    NM("Jenson", 12),      NM("Rhys", 10),      NM("Evan", 10),      NM("Zachary", 10),
    NM("Harvey", 20),      NM("Jude", 10),      NM("Rory", 8),       NM("Aiden", 10),
    NM("Brandon", 10),     NM("Declan", 5),     NM("Morgan", 5),     NM("Alex", 8),
    NM("Sam", 6),          NM("Ben", 5),        NM("Joe", 5),        NM("René", 1),
    NM("Noël", 1),         NM("Zak", 4),
};

static const struct xl_gen_name s_wb_female[] = {
    NM("Olivia", 85),  NM("Amelia", 80),    NM("Emily", 75),    NM("Isla", 55),
    NM("Ava", 55),     NM("Jessica", 60),   NM("Isabella", 40), NM("Lily", 60),
    NM("Ella", 50),    NM("Mia", 45),       NM("Sophie", 50),   NM("Grace", 45),
    NM("Evie", 45),    NM("Poppy", 40),     NM("Chloe", 45),    NM("Ruby", 40),
    NM("Sophia", 30),  NM("Charlotte", 40), NM("Freya", 35),    NM("Daisy", 30),
    NM("Phoebe", 25),  NM("Holly", 25),     NM("Millie", 35),   NM("Scarlett", 25),
    NM("Lucy", 25),    NM("Megan", 25),     NM("Ellie", 35),    NM("Erin", 20),
    NM("Lola", 20),    NM("Sienna", 15),    NM("Alice", 20),    NM("Florence", 15),
    NM("Matilda", 15), NM("Harriet", 10),   NM("Katie", 15),    NM("Hannah", 20),
    NM("Amy", 15),     NM("Abigail", 20),   NM("Eleanor", 15),  NM("Elizabeth", 15),
    NM("Rebecca", 10), NM("Zoe", 12),       NM("Molly", 25),    NM("Maisie", 20),
    NM("Imogen", 15),  NM("Esme", 10),      NM("Willow", 10),   NM("Rosie", 15),
    NM("Eva", 20),     NM("Layla", 20),     NM("Paige", 10),    NM("Summer", 10),
    NM("Lexi", 12),    NM("Leah", 12),      NM("Bethany", 10),  NM("Lauren", 10),
    NM("Caitlin", 8),  NM("Jasmine", 10),   NM("Zoë", 4),       NM("Chloé", 3),
    NM("Renée", 1),    NM("Isabelle", 12),  NM("Darcey", 10),   NM("Tilly", 10),
    NM("Evelyn", 8),   NM("Harper", 10),    NM("Elsie", 8),     NM("Maya", 10),
    NM("Skye", 6),     NM("Katherine", 4),  NM("Margaret", 1),  NM("Victoria", 5),
    NM("Samantha", 4), NM("Natalie", 4),    NM("Courtney", 4),  NM("Georgia", 10),
    NM("Niamh", 6),    NM("Amber", 10),     NM("Madison", 8),   NM("Kayleigh", 4),
    NM("Hollie", 5),   NM("Brooke", 6),     NM("Aimée", 2),     NM("Éva", 1),
};

static const struct xl_gen_name s_wb_surname[] = {
    NM("Smith", 200),     NM("Jones", 150),      NM("Williams", 120),   NM("Taylor", 110),
    NM("Brown", 100),     NM("Davies", 85),      NM("Evans", 70),       NM("Wilson", 70),
    NM("Thomas", 65),     NM("Johnson", 65),     NM("Roberts", 65),     NM("Robinson", 55),
    NM("Thompson", 55),   NM("Wright", 55),      NM("Walker", 55),      NM("White", 50),
    NM("Edwards", 50),    NM("Hughes", 50),      NM("Green", 50),       NM("Hall", 50),
    NM("Lewis", 45),      NM("Harris", 45),      NM("Clarke", 45),      NM("Jackson", 45),
    NM("Wood", 45),       NM("Turner", 40),      NM("Martin", 40),      NM("Cooper", 40),
    NM("Hill", 40),       NM("Ward", 40),        NM("Morris", 40),      NM("Moore", 40),
    NM("Clark", 40),      NM("Lee", 40),         NM("King", 40),        NM("Baker", 35),
    NM("Harrison", 35),   NM("Morgan", 35),      NM("Allen", 35),       NM("James", 35),
    NM("Scott", 35),      NM("Phillips", 35),    NM("Watson", 35),      NM("Davis", 35),
    NM("Parker", 35),     NM("Price", 30),       NM("Bennett", 30),     NM("Young", 30),
    NM("Griffiths", 30),  NM("Mitchell", 30),    NM("Cook", 30),        NM("Carter", 30),
    NM("Richardson", 30), NM("Bailey", 30),      NM("Collins", 30),     NM("Bell", 30),
    NM("Shaw", 30),       NM("Miller", 28),      NM("Cox", 28),         NM("Richards", 28),
    NM("Marshall", 26),   NM("Anderson", 26),    NM("Simpson", 26),     NM("Ellis", 26),
    NM("Adams", 26),      NM("Wilkinson", 25),   NM("Foster", 25),      NM("Chapman", 25),
    NM("Powell", 25),     NM("Webb", 25),        NM("Rogers", 25),      NM("Gray", 25),
    NM("Mason", 25),      NM("Hunt", 24),        NM("Campbell", 24),    NM("Matthews", 24),
    NM("Owen", 24),       NM("Palmer", 24),      NM("Holmes", 24),      NM("Mills", 24),
    NM("Barnes", 22),     NM("Knight", 22),      NM("Lloyd", 22),       NM("Butler", 22),
    NM("Russell", 22),    NM("Barker", 22),      NM("Fisher", 22),      NM("Stevens", 22),
    NM("Jenkins", 22),    NM("Dixon", 20),       NM("Harvey", 20),      NM("Graham", 20),
    NM("Pearson", 20),    NM("Fletcher", 20),    NM("Gibson", 20),      NM("Howard", 20),
    NM("Andrews", 20),    NM("Stewart", 20),     NM("Elliott", 20),     NM("Reynolds", 18),
    NM("Saunders", 18),   NM("Payne", 18),       NM("Fox", 18),         NM("Ford", 18),
    NM("Pearce", 18),     NM("Day", 18),         NM("Brooks", 18),      NM("West", 18),
    NM("Lawrence", 18),   NM("Cole", 18),        NM("Atkinson", 16),    NM("Bradley", 16),
    NM("Spencer", 16),    NM("Dawson", 16),      NM("Ball", 16),        NM("Burton", 16),
    NM("Watts", 16),      NM("Rose", 16),        NM("Booth", 16),       NM("Perry", 16),
    NM("Wells", 15),      NM("Armstrong", 15),   NM("Francis", 15),     NM("Rees", 15),
    NM("Hayes", 15),      NM("Hart", 15),        NM("Hudson", 15),      NM("Newman", 15),
    NM("Barrett", 15),    NM("Webster", 15),     NM("Hunter", 15),      NM("Gregory", 15),
    NM("Carr", 14),       NM("Lowe", 14),        NM("Page", 14),        NM("Marsh", 14),
    NM("Riley", 14),      NM("Dunn", 14),        NM("Woods", 14),       NM("Parsons", 14),
    NM("Berry", 14),      NM("Stone", 14),       NM("Reid", 14),        NM("Holland", 13),
    NM("Hawkins", 13),    NM("Harding", 13),     NM("Porter", 13),      NM("Robertson", 13),
    NM("Newton", 13),     NM("Oliver", 13),      NM("Reed", 13),        NM("Williamson", 12),
    NM("Bird", 12),       NM("Gardner", 12),     NM("Dean", 12),        NM("Lane", 12),
    NM("Cooke", 12),      NM("Bates", 12),       NM("Henderson", 12),   NM("Parry", 12),
    NM("Burgess", 12),    NM("Bishop", 12),      NM("Walton", 12),      NM("Nicholson", 11),
    NM("Shepherd", 11),   NM("Cross", 11),       NM("Long", 11),        NM("Freeman", 11),
    NM("Warren", 11),     NM("Nicholls", 11),    NM("Hamilton", 11),    NM("Sutton", 11),
    NM("McDonald", 11),   NM("Yates", 11),       NM("Hodgson", 10),     NM("Robson", 10),
    NM("Curtis", 10),     NM("Hopkins", 10),     NM("Harper", 10),      NM("Coleman", 10),
    NM("Watkins", 10),    NM("Moss", 10),        NM("Chambers", 10),    NM("Griffin", 10),
    NM("Sharp", 10),      NM("Hardy", 10),       NM("Wheeler", 10),     NM("Potter", 10),
    NM("Osborne", 9),     NM("Johnston", 9),     NM("Gordon", 9),       NM("Wallace", 9),
    NM("George", 9),      NM("Jordan", 9),       NM("Hutchinson", 9),   NM("Rowe", 9),
    NM("May", 9),         NM("Pritchard", 9),    NM("Gilbert", 8),      NM("Willis", 8),
    NM("Read", 8),        NM("Miles", 8),        NM("Stevenson", 8),    NM("Stephenson", 8),
    NM("Hammond", 8),     NM("Arnold", 8),       NM("Walters", 8),      NM("Hewitt", 8),
    NM("Barber", 8),      NM("Nelson", 8),       NM("Slater", 8),       NM("Austin", 8),
    NM("Whitehead", 8),   NM("Mann", 7),         NM("Frost", 7),        NM("Lambert", 7),
    NM("Stephens", 7),    NM("Blake", 7),        NM("Goodwin", 7),      NM("Barton", 7),
    NM("Woodward", 7),    NM("Cunningham", 7),   NM("Baxter", 7),       NM("Clayton", 7),
    NM("Nash", 7),        NM("Greenwood", 7),    NM("Jennings", 7),     NM("Holt", 7),
    NM("Kemp", 6),        NM("Poole", 6),        NM("Bond", 6),         NM("Stokes", 6),
    NM("Tucker", 6),      NM("Fowler", 6),       NM("Heath", 6),        NM("Norman", 6),
    NM("Middleton", 6),   NM("Banks", 6),        NM("French", 6),       NM("Stanley", 6),
    NM("Jarvis", 6),      NM("Gibbs", 6),        NM("Hayward", 5),      NM("Pickering", 5),
    NM("Hale", 5),        NM("Leonard", 5),      NM("Sykes", 5),        NM("Ashworth", 5),
    NM("Fairclough", 3),  NM("Ramsbottom", 2),   NM("Featherstone", 3), NM("Smyth", 3),
    NM("St John", 1),     NM("De Souza", 1),     NM("Le Marchant", 1),  NM("ffrench", 1),
    NM("Smith-Jones", 2), NM("Lloyd-Davies", 1), NM("Hyde-Smith", 1),
};

/* ---- Irish ----------------------------------------------------------------- */

static const struct xl_gen_name s_ie_male[] = {
    NM("Seán", 20),  NM("Sean", 25),    NM("Conor", 25),   NM("Cian", 15),   NM("Oisín", 10),
    NM("Eoin", 10),  NM("Darragh", 10), NM("Ciarán", 8),   NM("Pádraig", 5), NM("Ronan", 10),
    NM("Declan", 8), NM("Liam", 20),    NM("Patrick", 15), NM("Fionn", 6),   NM("Cillian", 6),
    NM("Jack", 20),  NM("Aidan", 10),
};

static const struct xl_gen_name s_ie_female[] = {
    NM("Niamh", 25),  NM("Aoife", 20),  NM("Ciara", 20), NM("Saoirse", 15), NM("Siobhán", 8),
    NM("Róisín", 10), NM("Caoimhe", 8), NM("Orla", 12),  NM("Clodagh", 6),  NM("Aisling", 8),
    NM("Erin", 15),   NM("Sinéad", 6),  NM("Bríd", 2),   NM("Maeve", 10),   NM("Grace", 10),
};

static const struct xl_gen_name s_ie_surname[] = {
    NM("Murphy", 40),   NM("Kelly", 35),      NM("O'Sullivan", 25), NM("Walsh", 30),
    NM("O'Brien", 30),  NM("Byrne", 25),      NM("Ryan", 25),       NM("O'Connor", 25),
    NM("O'Neill", 25),  NM("Doyle", 20),      NM("McCarthy", 20),   NM("Gallagher", 20),
    NM("Doherty", 18),  NM("Kennedy", 18),    NM("Lynch", 18),      NM("Murray", 18),
    NM("Quinn", 18),    NM("McLaughlin", 12), NM("Carroll", 12),    NM("Connolly", 12),
    NM("Daly", 12),     NM("Brennan", 12),    NM("Burke", 12),      NM("Fitzgerald", 12),
    NM("McDonnell", 8), NM("O'Reilly", 12),   NM("Nolan", 10),      NM("Flanagan", 10),
    NM("Kavanagh", 10), NM("O'Donnell", 10),  NM("Mac Giolla", 1),  NM("Ó Súilleabháin", 1),
    NM("O'Mahony", 6),  NM("Farrell", 10),    NM("Sullivan", 10),
};

/* ---- Pakistani ------------------------------------------------------------ */

static const struct xl_gen_name s_pk_male[] = {
    NM("Muhammad", 120), NM("Mohammed", 80), NM("Mohammad", 30), NM("Ali", 35),
    NM("Hamza", 40),     NM("Ibrahim", 35),  NM("Yusuf", 35),    NM("Zain", 30),
    NM("Ayaan", 30),     NM("Abdullah", 25), NM("Umar", 25),     NM("Bilal", 20),
    NM("Hassan", 20),    NM("Haris", 15),    NM("Rayyan", 20),   NM("Zakariya", 15),
    NM("Musa", 20),      NM("Adam", 25),     NM("Imran", 10),    NM("Usman", 15),
    NM("Faisal", 8),     NM("Arslan", 8),    NM("Saad", 10),     NM("Ahmed", 15),
    NM("Haroon", 8),     NM("Talha", 8),     NM("Zayan", 10),    NM("Ismail", 15),
    NM("Suleman", 8),    NM("Asad", 8),      NM("Aryan", 5),     NM("Danyal", 8),
    NM("Ehsan", 5),      NM("Idris", 8),     NM("Mustafa", 10),
};

static const struct xl_gen_name s_pk_female[] = {
    NM("Ayesha", 40), NM("Maryam", 45),  NM("Fatima", 45), NM("Zara", 30),   NM("Hafsa", 25),
    NM("Aisha", 35),  NM("Khadija", 20), NM("Zainab", 30), NM("Amina", 20),  NM("Inaya", 20),
    NM("Hania", 10),  NM("Mahnoor", 12), NM("Iqra", 12),   NM("Sana", 10),   NM("Alishba", 10),
    NM("Noor", 15),   NM("Anaya", 15),   NM("Eman", 12),   NM("Safa", 8),    NM("Sumaya", 8),
    NM("Laiba", 10),  NM("Hiba", 8),     NM("Areeba", 8),  NM("Aleena", 10), NM("Hareem", 5),
    NM("Mehreen", 5), NM("Samina", 3),   NM("Zoya", 8),    NM("Haniya", 5),  NM("Amna", 8),
};

static const struct xl_gen_name s_pk_surname[] = {
    NM("Khan", 120),   NM("Hussain", 90), NM("Ahmed", 70),     NM("Ali", 70),
    NM("Akhtar", 30),  NM("Mahmood", 35), NM("Iqbal", 35),     NM("Rashid", 20),
    NM("Shah", 25),    NM("Aslam", 15),   NM("Butt", 12),      NM("Malik", 20),
    NM("Qureshi", 15), NM("Mirza", 12),   NM("Raza", 12),      NM("Chaudhry", 12),
    NM("Riaz", 10),    NM("Javed", 10),   NM("Anwar", 10),     NM("Saleem", 10),
    NM("Nawaz", 10),   NM("Siddiqui", 8), NM("Rehman", 15),    NM("Mohammed", 20),
    NM("Bashir", 10),  NM("Younis", 8),   NM("Zaman", 10),     NM("Mehmood", 10),
    NM("Sadiq", 8),    NM("Tariq", 8),    NM("Ahmed Khan", 3), NM("Mohammed Ali", 2),
    NM("Ul-Haq", 3),   NM("Abbasi", 5),
};

static const struct xl_gen_name s_pk_girl_surname[] = {
    NM("Bibi", 40),
    NM("Begum", 40),
    NM("Kausar", 5),
};

/* ---- Indian (Gujarati, Punjabi, Goan) -------------------------------------- */

static const struct xl_gen_name s_in_male[] = {
    NM("Arjun", 30),  NM("Aarav", 20),  NM("Rohan", 25),   NM("Dev", 15),      NM("Krish", 25),
    NM("Vihaan", 10), NM("Harjot", 10), NM("Gurpreet", 8), NM("Jaskaran", 10), NM("Rahul", 15),
    NM("Aryan", 20),  NM("Ishaan", 15), NM("Jai", 12),     NM("Kiran", 8),     NM("Nikhil", 10),
    NM("Sai", 8),     NM("Veer", 10),   NM("Manpreet", 5), NM("Harvinder", 3), NM("Sukhdeep", 5),
    NM("Ravi", 8),    NM("Amrit", 6),   NM("Karan", 12),   NM("Yash", 10),     NM("Dhruv", 10),
    NM("Jasdeep", 6), NM("Arav", 6),    NM("Shiv", 8),     NM("Om", 4),        NM("Neel", 6),
};

static const struct xl_gen_name s_in_female[] = {
    NM("Priya", 20),  NM("Ananya", 15), NM("Simran", 20), NM("Jasleen", 12), NM("Harleen", 10),
    NM("Anika", 15),  NM("Isha", 15),   NM("Kavya", 10),  NM("Navneet", 6),  NM("Riya", 20),
    NM("Diya", 15),   NM("Aanya", 10),  NM("Meera", 10),  NM("Pooja", 8),    NM("Sanjana", 6),
    NM("Gurleen", 8), NM("Amrita", 6),  NM("Nisha", 8),   NM("Tara", 8),     NM("Jasmin", 8),
    NM("Anjali", 10), NM("Shreya", 10), NM("Khushi", 10), NM("Mehak", 6),    NM("Palak", 6),
};

static const struct xl_gen_name s_in_surname[] = {
    NM("Patel", 200), NM("Singh", 100),  NM("Kaur", 60),     NM("Sharma", 25), NM("Gill", 30),
    NM("Sandhu", 20), NM("Sidhu", 15),   NM("Dhillon", 15),  NM("Kumar", 20),  NM("Mistry", 20),
    NM("Parmar", 20), NM("Chauhan", 15), NM("Joshi", 12),    NM("Mehta", 10),  NM("Shah", 25),
    NM("Bains", 10),  NM("Sohal", 8),    NM("Johal", 10),    NM("Grewal", 8),  NM("Lal", 8),
    NM("Gupta", 10),  NM("Rana", 8),     NM("Solanki", 12),  NM("Chohan", 6),  NM("Thind", 6),
    NM("Virdee", 6),  NM("D'Souza", 6),  NM("Fernandes", 5), NM("Pereira", 4), NM("Lad", 6),
    NM("Makwana", 8), NM("Chavda", 6),   NM("Rathod", 6),    NM("Desai", 8),   NM("Jassal", 4),
};

/* ---- Bangladeshi ---------------------------------------------------------- */

static const struct xl_gen_name s_bd_male[] = {
    NM("Mohammed", 40), NM("Abdul", 25), NM("Rahim", 10),  NM("Sahil", 10), NM("Ayaan", 15),
    NM("Rayhan", 12),   NM("Tanvir", 8), NM("Arif", 8),    NM("Shahid", 6), NM("Jamal", 8),
    NM("Imran", 8),     NM("Rahman", 8), NM("Sami", 8),    NM("Nabil", 8),  NM("Raihan", 10),
    NM("Ibrahim", 15),  NM("Yahya", 10), NM("Zakaria", 8), NM("Rafi", 6),   NM("Tahmid", 6),
};

static const struct xl_gen_name s_bd_female[] = {
    NM("Fatema", 15), NM("Nusrat", 10),  NM("Tasnim", 12),  NM("Sumaiya", 12), NM("Jannat", 10),
    NM("Farhana", 6), NM("Rukhsana", 4), NM("Sadia", 10),   NM("Nazia", 6),    NM("Tahmina", 6),
    NM("Anisa", 8),   NM("Mariam", 12),  NM("Ruqayyah", 6), NM("Safiya", 8),   NM("Afia", 6),
};

static const struct xl_gen_name s_bd_surname[] = {
    NM("Miah", 30),      NM("Uddin", 30),     NM("Rahman", 30), NM("Islam", 25),   NM("Ahmed", 25),
    NM("Hoque", 15),     NM("Choudhury", 15), NM("Ali", 20),    NM("Hossain", 15), NM("Sarkar", 6),
    NM("Chowdhury", 12), NM("Karim", 8),      NM("Alam", 10),   NM("Haque", 10),   NM("Khan", 10),
};

static const struct xl_gen_name s_bd_girl_surname[] = {
    NM("Begum", 60),
    NM("Khatun", 25),
    NM("Akter", 20),
    NM("Khanom", 8),
};

/* ---- Polish --------------------------------------------------------------- */

static const struct xl_gen_name s_pl_male[] = {
    NM("Jakub", 30),   NM("Kacper", 25), NM("Szymon", 20), NM("Filip", 20), NM("Mateusz", 20),
    NM("Bartosz", 15), NM("Michał", 20), NM("Łukasz", 12), NM("Paweł", 12), NM("Wojciech", 8),
    NM("Dawid", 15),   NM("Adrian", 10), NM("Oliwer", 10), NM("Antoni", 8), NM("Igor", 10),
    NM("Mikołaj", 12), NM("Kamil", 10),  NM("Tomasz", 8),  NM("Piotr", 8),  NM("Wiktor", 10),
};

static const struct xl_gen_name s_pl_female[] = {
    NM("Zuzanna", 20),  NM("Julia", 25),    NM("Maja", 20),      NM("Zofia", 15),
    NM("Hanna", 12),    NM("Lena", 15),     NM("Alicja", 12),    NM("Oliwia", 20),
    NM("Natalia", 15),  NM("Wiktoria", 18), NM("Amelia", 12),    NM("Gabriela", 10),
    NM("Martyna", 8),   NM("Weronika", 12), NM("Małgorzata", 3), NM("Agnieszka", 3),
    NM("Katarzyna", 4), NM("Nikola", 10),
};

static const struct xl_gen_name s_pl_surname[] = {
    NM("Nowak", 40),
    SF("Kowalski", "Kowalska", 30),
    SF("Wiśniewski", "Wiśniewska", 25),
    NM("Wójcik", 25),
    NM("Kowalczyk", 20),
    SF("Kamiński", "Kamińska", 20),
    SF("Lewandowski", "Lewandowska", 20),
    SF("Zieliński", "Zielińska", 18),
    SF("Szymański", "Szymańska", 15),
    NM("Woźniak", 15),
    SF("Dąbrowski", "Dąbrowska", 15),
    SF("Kozłowski", "Kozłowska", 12),
    SF("Jankowski", "Jankowska", 12),
    NM("Mazur", 12),
    SF("Kwiatkowski", "Kwiatkowska", 10),
    NM("Krawczyk", 10),
    SF("Piotrowski", "Piotrowska", 10),
    SF("Grabowski", "Grabowska", 10),
    SF("Pawłowski", "Pawłowska", 8),
    SF("Michalski", "Michalska", 8),
    NM("Wróbel", 8),
    NM("Król", 6),
    NM("Zając", 8),
    SF("Górski", "Górska", 6),
    NM("Nowicki", 6),
};

/* ---- Romanian ------------------------------------------------------------- */

static const struct xl_gen_name s_ro_male[] = {
    NM("Andrei", 25),  NM("Alexandru", 25), NM("Ștefan", 15),   NM("Mihai", 20), NM("Ionuț", 10),
    NM("Gabriel", 15), NM("David", 20),     NM("Darius", 12),   NM("Luca", 12),  NM("Matei", 10),
    NM("Rareș", 8),    NM("Răzvan", 8),     NM("Cristian", 10), NM("Florin", 6), NM("Marius", 6),
    NM("Vlad", 10),    NM("Ionel", 4),      NM("Sebastian", 8),
};

static const struct xl_gen_name s_ro_female[] = {
    NM("Maria", 30),   NM("Ioana", 20),   NM("Elena", 20), NM("Andreea", 20), NM("Alexandra", 15),
    NM("Bianca", 15),  NM("Denisa", 10),  NM("Ana", 12),   NM("Daria", 10),   NM("Sofia", 12),
    NM("Larisa", 8),   NM("Mădălina", 8), NM("Roxana", 6), NM("Alina", 8),    NM("Teodora", 6),
    NM("Ștefania", 6), NM("Anca", 4),
};

static const struct xl_gen_name s_ro_surname[] = {
    NM("Popescu", 30),   NM("Ionescu", 20),  NM("Popa", 25),    NM("Pop", 20),
    NM("Radu", 15),      NM("Dumitru", 15),  NM("Stan", 12),    NM("Stoica", 12),
    NM("Gheorghe", 12),  NM("Matei", 8),     NM("Ciobanu", 10), NM("Constantin", 10),
    NM("Rusu", 10),      NM("Munteanu", 10), NM("Moldovan", 8), NM("Mihăilă", 6),
    NM("Țurcanu", 5),    NM("Lungu", 8),     NM("Florea", 8),   NM("Dinu", 6),
    NM("Ștefănescu", 5), NM("Oprea", 8),     NM("Bălan", 8),    NM("Năstase", 4),
};

/* ---- Lithuanian: girls' surnames take the unmarried form ------------------ */

static const struct xl_gen_name s_lt_male[] = {
    NM("Lukas", 20), NM("Matas", 15),  NM("Jokūbas", 12), NM("Nojus", 12), NM("Dominykas", 10),
    NM("Kajus", 8),  NM("Mantas", 8),  NM("Tomas", 10),   NM("Rokas", 8),  NM("Dovydas", 10),
    NM("Ignas", 8),  NM("Aurimas", 5), NM("Arnas", 6),    NM("Benas", 6),  NM("Justas", 6),
};

static const struct xl_gen_name s_lt_female[] = {
    NM("Emilija", 20), NM("Gabija", 15), NM("Austėja", 12), NM("Urtė", 10), NM("Kamilė", 12),
    NM("Goda", 8),     NM("Ugnė", 10),   NM("Jūratė", 4),   NM("Viltė", 6), NM("Miglė", 6),
    NM("Gustė", 6),    NM("Rūta", 6),    NM("Agnė", 6),     NM("Ieva", 10),
};

static const struct xl_gen_name s_lt_surname[] = {
    SF("Kazlauskas", "Kazlauskaitė", 15),
    SF("Jankauskas", "Jankauskaitė", 12),
    SF("Petrauskas", "Petrauskaitė", 12),
    SF("Stankevičius", "Stankevičiūtė", 10),
    SF("Vasiliauskas", "Vasiliauskaitė", 10),
    SF("Žukauskas", "Žukauskaitė", 8),
    SF("Butkus", "Butkutė", 8),
    SF("Paulauskas", "Paulauskaitė", 8),
    SF("Urbonas", "Urbonaitė", 8),
    SF("Kavaliauskas", "Kavaliauskaitė", 6),
    SF("Baranauskas", "Baranauskaitė", 6),
    SF("Navickas", "Navickaitė", 6),
    SF("Šimkus", "Šimkutė", 5),
    SF("Balčiūnas", "Balčiūnaitė", 4),
};

/* ---- Nigerian ------------------------------------------------------------- */

static const struct xl_gen_name s_ng_male[] = {
    NM("Oluwaseun", 12),  NM("Oluwatobi", 10), NM("Chinedu", 8),   NM("Emeka", 8),
    NM("Tobi", 10),       NM("David", 20),     NM("Daniel", 20),   NM("Samuel", 18),
    NM("Ayomide", 10),    NM("Tomiwa", 6),     NM("Femi", 6),      NM("Olamide", 8),
    NM("Chukwuemeka", 5), NM("Ifeanyi", 5),    NM("Toluwani", 5),  NM("Damilola", 6),
    NM("Adebayo", 5),     NM("Obinna", 5),     NM("Kelechi", 5),   NM("Tunde", 5),
    NM("Joshua", 15),     NM("Victor", 10),    NM("Emmanuel", 12), NM("Favour", 4),
    NM("Israel", 8),
};

static const struct xl_gen_name s_ng_female[] = {
    NM("Adaeze", 8),    NM("Chioma", 8),    NM("Temitope", 8), NM("Ayomide", 8),
    NM("Folake", 4),    NM("Funmilayo", 4), NM("Ngozi", 4),    NM("Precious", 12),
    NM("Blessing", 12), NM("Favour", 12),   NM("Esther", 12),  NM("Deborah", 10),
    NM("Titilayo", 4),  NM("Simisola", 6),  NM("Morenike", 4), NM("Ifeoma", 5),
    NM("Amarachi", 6),  NM("Chiamaka", 8),  NM("Tiwa", 5),     NM("Oluwadamilola", 6),
    NM("Mercy", 8),     NM("Grace", 10),
};

static const struct xl_gen_name s_ng_surname[] = {
    NM("Adeyemi", 15), NM("Okafor", 12),  NM("Okonkwo", 10),  NM("Adebayo", 12),
    NM("Ogunleye", 8), NM("Balogun", 10), NM("Olawale", 6),   NM("Eze", 10),
    NM("Nwosu", 8),    NM("Ibrahim", 8),  NM("Abiodun", 6),   NM("Afolabi", 8),
    NM("Adewale", 8),  NM("Akinola", 6),  NM("Babatunde", 6), NM("Ogunbiyi", 5),
    NM("Ojo", 8),      NM("Okeke", 8),    NM("Oladipo", 5),   NM("Adeleke", 6),
    NM("Chukwu", 6),   NM("Obi", 8),      NM("Oyelaran", 3),  NM("Adeyemi-Johnson", 1),
    NM("Oyekan", 4),   NM("Akintola", 4),
};

/* ---- Somali: family names are the father's or grandfather's given name ---- */

static const struct xl_gen_name s_so_male[] = {
    NM("Abdi", 15),      NM("Abdirahman", 12), NM("Mohamed", 25), NM("Ahmed", 15),
    NM("Abdullahi", 12), NM("Hassan", 10),     NM("Yusuf", 10),   NM("Ayanle", 5),
    NM("Liban", 6),      NM("Mahad", 6),       NM("Khalid", 6),   NM("Hamza", 8),
    NM("Abdikarim", 5),  NM("Omar", 10),       NM("Zakariye", 5),
};

static const struct xl_gen_name s_so_female[] = {
    NM("Hodan", 8), NM("Ayaan", 8), NM("Hibaaq", 5), NM("Fadumo", 8),
    NM("Sagal", 6), NM("Nasra", 6), NM("Hamdi", 5),  NM("Idil", 6),
    NM("Amal", 8),  NM("Ifrah", 6), NM("Sahra", 6),  NM("Ubah", 4),
    NM("Muna", 6),  NM("Deeqa", 5), NM("Hafsa", 8),  NM("Maryan", 6),
};

static const struct xl_gen_name s_so_surname[] = {
    NM("Abdi", 15), NM("Mohamed", 25), NM("Ahmed", 15),  NM("Ali", 20),    NM("Hassan", 15),
    NM("Omar", 10), NM("Farah", 10),   NM("Warsame", 8), NM("Hussein", 8), NM("Jama", 8),
    NM("Osman", 8), NM("Ismail", 8),   NM("Yusuf", 8),   NM("Nur", 6),     NM("Abdullahi", 8),
    NM("Aden", 6),  NM("Egal", 4),     NM("Duale", 4),   NM("Guled", 4),   NM("Mohamud", 8),
};

/* ---- Ghanaian ------------------------------------------------------------- */

static const struct xl_gen_name s_gh_male[] = {
    NM("Kwame", 12),  NM("Kofi", 12), NM("Kwabena", 8),  NM("Kwaku", 6),     NM("Yaw", 8),
    NM("Kojo", 6),    NM("Kwesi", 6), NM("Nana", 6),     NM("Emmanuel", 12), NM("Prince", 10),
    NM("Michael", 8), NM("Isaac", 8), NM("Ebenezer", 5), NM("Nathaniel", 6),
};

static const struct xl_gen_name s_gh_female[] = {
    NM("Ama", 10),     NM("Akosua", 8), NM("Abena", 8),    NM("Afua", 6),      NM("Adwoa", 6),
    NM("Efua", 5),     NM("Yaa", 6),    NM("Esi", 5),      NM("Akua", 5),      NM("Nana", 6),
    NM("Princess", 8), NM("Gifty", 6),  NM("Abigail", 10), NM("Josephine", 6),
};

static const struct xl_gen_name s_gh_surname[] = {
    NM("Mensah", 20), NM("Owusu", 15), NM("Boateng", 15), NM("Asante", 12),    NM("Osei", 12),
    NM("Appiah", 10), NM("Addo", 8),   NM("Agyeman", 8),  NM("Acheampong", 6), NM("Amoah", 8),
    NM("Darko", 6),   NM("Ofori", 8),  NM("Sarpong", 6),  NM("Quaye", 5),      NM("Ansah", 6),
    NM("Adjei", 8),   NM("Opoku", 8),  NM("Antwi", 6),    NM("Frimpong", 6),   NM("Kuffour", 3),
};

/* ---- Black Caribbean ------------------------------------------------------ */

static const struct xl_gen_name s_cb_male[] = {
    NM("Tyrese", 10), NM("Kemar", 5),     NM("Andre", 8),     NM("Marcus", 10),  NM("Jermaine", 4),
    NM("Leon", 8),    NM("Jerome", 5),    NM("Dwayne", 4),    NM("Malachi", 10), NM("Jahmal", 4),
    NM("Kareem", 5),  NM("Tremaine", 4),  NM("Isaiah", 10),   NM("Elijah", 12),  NM("Jaden", 10),
    NM("Kai", 8),     NM("Reuben", 5),    NM("Nathaniel", 6), NM("Joel", 6),     NM("Micah", 6),
    NM("Josiah", 8),  NM("Shaquille", 3), NM("Ty", 3),
};

static const struct xl_gen_name s_cb_female[] = {
    NM("Shanice", 6), NM("Tia", 8),       NM("Keisha", 5),    NM("Aaliyah", 12), NM("Jada", 10),
    NM("Nia", 10),    NM("Rhianna", 6),   NM("Shantelle", 4), NM("Kayla", 8),    NM("Imani", 8),
    NM("Destiny", 6), NM("Tiana", 8),     NM("Amara", 6),     NM("Jahzara", 3),  NM("Zion", 3),
    NM("Naomi", 8),   NM("Chantelle", 4), NM("D'Andra", 1),   NM("Kenya", 3),
};

static const struct xl_gen_name s_cb_surname[] = {
    NM("Campbell", 20), NM("Brown", 20),    NM("Williams", 18), NM("Thompson", 15),
    NM("Francis", 12),  NM("Morgan", 10),   NM("Grant", 12),    NM("Reid", 12),
    NM("Henry", 10),    NM("Bailey", 10),   NM("Gordon", 10),   NM("Clarke", 10),
    NM("Stewart", 10),  NM("Samuels", 8),   NM("Richards", 8),  NM("Walker", 8),
    NM("Lewis", 8),     NM("Powell", 8),    NM("Forbes", 6),    NM("Bennett", 6),
    NM("McKenzie", 8),  NM("DaCosta", 4),   NM("Gayle", 6),     NM("Barrett", 6),
    NM("Edwards", 6),   NM("Hylton", 5),    NM("Graham", 6),    NM("Spence", 5),
    NM("Wright", 6),    NM("St. Louis", 1), NM("McFarlane", 4), NM("Brissett", 3),
};

/* ---- Chinese (Mandarin pinyin and Cantonese romanisations) ---------------- */

static const struct xl_gen_name s_cn_male[] = {
    NM("Wei", 8),   NM("Jun", 6),    NM("Hao", 6),    NM("Ming", 5),
    NM("Yi", 4),    NM("Jiahao", 5), NM("Kai", 5),    NM("Zhiwei", 3),
    NM("Chen", 3),  NM("Haoran", 5), NM("Ethan", 10), NM("Ryan", 8),
    NM("Jason", 5), NM("Jayden", 6), NM("Yuxuan", 5), NM("Ka Ho", 2),
};

static const struct xl_gen_name s_cn_female[] = {
    NM("Mei", 6),    NM("Xin", 5),   NM("Li", 4),    NM("Yan", 4),    NM("Ying", 4),
    NM("Jing", 4),   NM("Hui", 3),   NM("Lin", 4),   NM("Xiaoyu", 4), NM("Zihan", 5),
    NM("Chloe", 10), NM("Grace", 8), NM("Emily", 6), NM("Yutong", 4), NM("Wing Yan", 2),
};

static const struct xl_gen_name s_cn_surname[] = {
    NM("Wang", 15),  NM("Li", 15),   NM("Zhang", 12), NM("Liu", 10), NM("Chen", 12), NM("Yang", 8),
    NM("Huang", 8),  NM("Zhao", 6),  NM("Wu", 8),     NM("Zhou", 6), NM("Xu", 6),    NM("Sun", 4),
    NM("Ma", 4),     NM("Zhu", 4),   NM("Hu", 4),     NM("Lin", 6),  NM("Guo", 4),   NM("He", 4),
    NM("Cheung", 8), NM("Wong", 12), NM("Chan", 12),  NM("Lam", 6),  NM("Leung", 6), NM("Ng", 6),
    NM("Lau", 6),    NM("Ho", 5),    NM("Tang", 5),   NM("Yip", 3),
};

/* ---- Vietnamese ----------------------------------------------------------- */

static const struct xl_gen_name s_vn_male[] = {
    NM("Minh", 10), NM("Huy", 8),  NM("Khoa", 6),  NM("Nam", 6),  NM("Long", 6),  NM("Bảo", 6),
    NM("Đức", 6),   NM("Tuấn", 5), NM("Hoàng", 5), NM("Phúc", 5), NM("Quang", 5), NM("Anh", 6),
};

static const struct xl_gen_name s_vn_female[] = {
    NM("Linh", 10), NM("Anh", 8), NM("Ngọc", 8), NM("Thảo", 6),   NM("Trang", 6), NM("Hương", 5),
    NM("Mai", 6),   NM("Vy", 6),  NM("Hà", 5),   NM("Phương", 5), NM("Thu", 4),   NM("My", 5),
};

static const struct xl_gen_name s_vn_surname[] = {
    NM("Nguyễn", 40), NM("Trần", 12), NM("Lê", 10),   NM("Phạm", 8), NM("Hoàng", 6), NM("Huỳnh", 5),
    NM("Phan", 5),    NM("Vũ", 5),    NM("Võ", 4),    NM("Đặng", 4), NM("Bùi", 4),   NM("Đỗ", 4),
    NM("Hồ", 3),      NM("Ngô", 3),   NM("Dương", 3), NM("Lý", 2),
};

/* ---- Arabic (Iraqi, Syrian, Yemeni, Egyptian, Sudanese) ------------------- */

static const struct xl_gen_name s_ar_male[] = {
    NM("Omar", 15),  NM("Yousef", 12),  NM("Ahmad", 12),      NM("Khaled", 8), NM("Ali", 10),
    NM("Hamza", 10), NM("Adam", 10),    NM("Kareem", 6),      NM("Tariq", 5),  NM("Zaid", 8),
    NM("Yasin", 6),  NM("Mustafa", 8),  NM("Ibrahim", 10),    NM("Amir", 8),   NM("Mahmoud", 6),
    NM("Sami", 5),   NM("Mohamed", 15), NM("Abdulrahman", 6),
};

static const struct xl_gen_name s_ar_female[] = {
    NM("Layla", 10), NM("Noor", 10), NM("Mariam", 10), NM("Sara", 10), NM("Yasmin", 8),
    NM("Huda", 5),   NM("Salma", 6), NM("Rania", 5),   NM("Lina", 6),  NM("Dina", 4),
    NM("Aya", 8),    NM("Jana", 6),  NM("Malak", 6),   NM("Rahaf", 4), NM("Reem", 6),
    NM("Zahra", 8),  NM("Hala", 4),
};

static const struct xl_gen_name s_ar_surname[] = {
    NM("Al-Sayed", 6), NM("Haddad", 6),     NM("Hassan", 10),  NM("Ibrahim", 8),  NM("Mansour", 6),
    NM("Nasser", 6),   NM("Saleh", 8),      NM("Khalil", 6),   NM("Abdullah", 8), NM("Al-Amin", 4),
    NM("Darwish", 4),  NM("Farouk", 4),     NM("Hamdan", 4),   NM("Jaber", 4),    NM("Karim", 5),
    NM("Mahmoud", 8),  NM("Mustafa", 6),    NM("Othman", 5),   NM("Qasim", 5),    NM("Rashid", 5),
    NM("Yousef", 6),   NM("Al-Hashimi", 3), NM("El-Masri", 3), NM("Abu Bakr", 2), NM("Al Jaber", 2),
    NM("Hussein", 8),
};

/* ---- Portuguese and Spanish ----------------------------------------------- */

static const struct xl_gen_name s_pt_male[] = {
    NM("José", 10),   NM("João", 10), NM("Tiago", 10), NM("Gonçalo", 6),
    NM("Rodrigo", 8), NM("Diogo", 8), NM("Martín", 5), NM("Hugo", 6),
    NM("Álvaro", 4),  NM("Rúben", 4), NM("Pablo", 6),  NM("André", 6),
};

static const struct xl_gen_name s_pt_female[] = {
    NM("Inês", 10),      NM("Beatriz", 10), NM("Mariana", 10), NM("Sofía", 6),
    NM("Lucía", 8),      NM("Leonor", 6),   NM("Matilde", 6),  NM("Carolina", 8),
    NM("María José", 3), NM("Iara", 3),     NM("Mónica", 3),   NM("Raquel", 4),
};

static const struct xl_gen_name s_pt_surname[] = {
    NM("Silva", 20),    NM("Santos", 15),    NM("Ferreira", 12),  NM("Pereira", 10),
    NM("Oliveira", 10), NM("Costa", 10),     NM("Rodrigues", 10), NM("Gonçalves", 8),
    NM("Fernández", 8), NM("García", 10),    NM("López", 8),      NM("Martínez", 8),
    NM("Sánchez", 6),   NM("Gómez", 6),      NM("Muñoz", 4),      NM("Conceição", 3),
    NM("da Silva", 5),  NM("dos Santos", 3),
};

#define ORIGIN(label, w, p)                                                                        \
    label, w, s_##p##_male, s_##p##_female, s_##p##_surname, N(s_##p##_male), N(s_##p##_female),   \
        N(s_##p##_surname)

/* Weights: children per 10,000 in the coalition area by family origin, close to
 * the school-census ethnicity shares of Birmingham, Coventry, Leeds and
 * Leicester taken together. */
const struct xl_gen_origin xl_gen_origins[] = {
    {ORIGIN("white_british", 5600, wb), NULL, 0, 0, NULL, 0, 2, '-'},
    {ORIGIN("irish", 250, ie), NULL, 0, 0, NULL, 0, 0, '-'},
    {ORIGIN("pakistani", 900, pk), s_pk_girl_surname, N(s_pk_girl_surname), 20, "Muhammad", 18, 3,
     ' '},
    {ORIGIN("indian", 600, in), NULL, 0, 0, NULL, 0, 0, '-'},
    {ORIGIN("bangladeshi", 300, bd), s_bd_girl_surname, N(s_bd_girl_surname), 45, "Mohammed", 12, 0,
     ' '},
    {ORIGIN("polish", 300, pl), NULL, 0, 0, NULL, 0, 1, '-'},
    {ORIGIN("romanian", 250, ro), NULL, 0, 0, NULL, 0, 0, '-'},
    {ORIGIN("lithuanian", 100, lt), NULL, 0, 0, NULL, 0, 0, '-'},
    {ORIGIN("nigerian", 250, ng), NULL, 0, 0, NULL, 0, 2, '-'},
    {ORIGIN("somali", 150, so), NULL, 0, 0, NULL, 0, 0, ' '},
    {ORIGIN("ghanaian", 100, gh), NULL, 0, 0, NULL, 0, 1, '-'},
    {ORIGIN("caribbean", 250, cb), NULL, 0, 0, NULL, 0, 3, '-'},
    {ORIGIN("chinese", 100, cn), NULL, 0, 0, NULL, 0, 0, '-'},
    {ORIGIN("vietnamese", 50, vn), NULL, 0, 0, NULL, 0, 0, '-'},
    {ORIGIN("arabic", 200, ar), NULL, 0, 0, NULL, 0, 0, ' '},
    {ORIGIN("iberian", 80, pt), NULL, 0, 0, NULL, 0, 8, ' '},
};
const size_t xl_gen_n_origins = N(xl_gen_origins);

/* Nicknames: the name as registered, then what another agency wrote. A name may
 * have several. */
const struct xl_gen_alias xl_gen_nicknames[] = {
    {"William", "Bill"},     {"William", "Will"},      {"William", "Billy"},
    {"Elizabeth", "Liz"},    {"Elizabeth", "Beth"},    {"Elizabeth", "Lizzie"},
    {"Robert", "Rob"},       {"Robert", "Bobby"},      {"Thomas", "Tom"},
    {"Thomas", "Tommy"},     {"James", "Jim"},         {"James", "Jimmy"},
    {"Alexander", "Alex"},   {"Alexander", "Xander"},  {"Benjamin", "Ben"},
    {"Samuel", "Sam"},       {"Samuel", "Sammy"},      {"Daniel", "Dan"},
    {"Daniel", "Danny"},     {"Joseph", "Joe"},        {"Joseph", "Joey"},
    {"Matthew", "Matt"},     {"Christopher", "Chris"}, {"Jessica", "Jess"},
    {"Rebecca", "Becky"},    {"Katherine", "Kate"},    {"Katherine", "Katie"},
    {"Charlotte", "Lottie"}, {"Olivia", "Liv"},        {"Abigail", "Abbie"},
    {"Abigail", "Abby"},     {"Margaret", "Maggie"},   {"Michael", "Mike"},
    {"Michael", "Mikey"},    {"Nicholas", "Nick"},     {"Jonathan", "Jon"},
    {"Edward", "Ed"},        {"Edward", "Eddie"},      {"Edward", "Ted"},
    {"Anthony", "Tony"},     {"Richard", "Rich"},      {"Richard", "Ricky"},
    {"Harrison", "Harry"},   {"Frederick", "Freddie"}, {"Zachary", "Zac"},
    {"Zachary", "Zak"},      {"Isabella", "Bella"},    {"Isabella", "Izzy"},
    {"Isabelle", "Izzy"},    {"Eleanor", "Ellie"},     {"Eleanor", "Nell"},
    {"Amelia", "Millie"},    {"Victoria", "Vicky"},    {"Samantha", "Sam"},
    {"Natalie", "Nat"},      {"Hannah", "Hanna"},      {"Patrick", "Paddy"},
    {"Sebastian", "Seb"},    {"Nathaniel", "Nate"},    {"Nathan", "Nate"},
    {"Florence", "Flo"},     {"Matilda", "Tilly"},     {"Theodore", "Theo"},
    {"Harriet", "Hattie"},   {"Josephine", "Josie"},   {"Cameron", "Cam"},
    {"Bradley", "Brad"},     {"Oliver", "Ollie"},      {"Archibald", "Archie"},
    {"Alfred", "Alfie"},     {"Stanley", "Stan"},      {"Abdullah", "Abdul"},
    {"Oluwaseun", "Seun"},   {"Oluwatobi", "Tobi"},    {"Oluwadamilola", "Dami"},
    {"Damilola", "Dami"},    {"Temitope", "Tope"},     {"Chukwuemeka", "Emeka"},
    {"Funmilayo", "Funmi"},  {"Alexandru", "Alex"},    {"Aleksander", "Olek"},
    {"Mikołaj", "Mikolaj"},  {"Jakub", "Kuba"},        {"Małgorzata", "Gosia"},
    {"Katarzyna", "Kasia"},  {"Ștefan", "Stefan"},     {"Gabriel", "Gabi"},
    {"Cristian", "Cristi"},  {"Dominykas", "Domas"},
};
const size_t xl_gen_n_nicknames = N(xl_gen_nicknames);

/* Transliteration variants: the same name spelt from Arabic, Bengali, Somali or
 * Yoruba by different clerks. Used both ways round. */
const struct xl_gen_alias xl_gen_spellings[] = {
    {"Muhammad", "Mohammed"},  {"Muhammad", "Mohammad"},   {"Muhammad", "Mohamed"},
    {"Muhammad", "Muhammed"},  {"Mohammed", "Mohamed"},    {"Mohammed", "Mohammad"},
    {"Yusuf", "Yousef"},       {"Yusuf", "Yusef"},         {"Yousef", "Youssef"},
    {"Ayesha", "Aisha"},       {"Aisha", "Aysha"},         {"Fatima", "Fatema"},
    {"Fatima", "Fathima"},     {"Zainab", "Zaynab"},       {"Hussain", "Hussein"},
    {"Hussain", "Husain"},     {"Choudhury", "Chowdhury"}, {"Rehman", "Rahman"},
    {"Mahmood", "Mehmood"},    {"Mahmood", "Mahmud"},      {"Ibrahim", "Ebrahim"},
    {"Ismail", "Ismael"},      {"Zakariya", "Zakaria"},    {"Zakariya", "Zakariyya"},
    {"Umar", "Omar"},          {"Maryam", "Mariam"},       {"Abdirahman", "Abdurahman"},
    {"Mohamud", "Mahamud"},    {"Hoque", "Haque"},         {"Uddin", "Udin"},
    {"Miah", "Mia"},           {"Khadija", "Khadijah"},    {"Hafsa", "Hafsah"},
    {"Ruqayyah", "Ruqaiya"},   {"Sumaiya", "Sumaya"},      {"Hamza", "Hamzah"},
    {"Yahya", "Yahia"},        {"Musa", "Moosa"},          {"Idris", "Idrees"},
    {"Mustafa", "Mostafa"},    {"Abdullahi", "Abdulahi"},  {"Sean", "Shaun"},
    {"Seán", "Shaun"},         {"Aaliyah", "Aliyah"},      {"Jayden", "Jaden"},
    {"Kayleigh", "Kayley"},    {"Nguyễn", "Nguyen"},       {"Tyrese", "Tyreese"},
    {"McDonald", "MacDonald"}, {"Thompson", "Thomson"},    {"Clarke", "Clark"},
    {"Phillips", "Philips"},   {"Davies", "Davis"},        {"Matthews", "Mathews"},
    {"Singh", "Sing"},
};
const size_t xl_gen_n_spellings = N(xl_gen_spellings);
